//! `provisor push` and `provisor pull`: an assessment directory and a team server, the
//! way CI and people at a desk use them. A push sends a bundle (the assessment file,
//! its scans, evidence and wording); a pull writes the stored files byte for byte and a
//! pull record (`.provisor-pull.json`: server, assessment, revision) beside them, so
//! the next push from that directory becomes the next revision, and is refused when
//! someone else pushed in between. The API token is read from PROVISOR_TOKEN or a
//! token file, never from the command line, and never printed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cli::{PullArgs, PushArgs, RemoteArgs};
use crate::{Failure, Outcome, io};

/// The pull record's name in a pulled directory.
pub const PULL_RECORD: &str = ".provisor-pull.json";

/// What a directory was pulled from.
#[derive(Debug, Serialize, Deserialize)]
struct PullRecord {
    server: String,
    assessment: String,
    revision: i64,
}

/// The largest answer read from a server (a bundle).
const ANSWER_LIMIT: u64 = 64 << 30;

pub(crate) fn token(remote: &RemoteArgs) -> Result<String, Failure> {
    let token = match &remote.token_file {
        Some(path) => std::fs::read_to_string(path).map_err(|error| {
            Failure::Invalid(format!("cannot read the token file {}: {error}", path.display()))
        })?,
        None => std::env::var("PROVISOR_TOKEN").map_err(|_| {
            Failure::Invalid(
                "no API token: set PROVISOR_TOKEN or give --token-file\n  = help: make one in a session: POST /api/v1/tokens".into(),
            )
        })?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(Failure::Invalid(
            "the API token is empty or malformed".into(),
        ));
    }
    Ok(token)
}

pub(crate) fn agent(remote: &RemoteArgs) -> Result<ureq::Agent, Failure> {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(3600)));
    if let Some(path) = &remote.ca_cert {
        let pem = std::fs::read(path).map_err(|error| {
            Failure::Invalid(format!("cannot read {}: {error}", path.display()))
        })?;
        let certificates: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
                _ => None,
            })
            .collect();
        if certificates.is_empty() {
            return Err(Failure::Invalid(format!(
                "{} holds no PEM certificate",
                path.display()
            )));
        }
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(
                    certificates,
                )))
                .build(),
        );
    }
    Ok(config.build().into())
}

/// Turns a problem document (or any error answer) into a message.
fn refused(server: &str, response: &mut ureq::http::Response<ureq::Body>) -> Failure {
    let status = response.status();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .unwrap_or_default();
    let mut message = format!("{server} answered {status}");
    if let Ok(problem) = serde_json::from_str::<serde_json::Value>(&body) {
        if let Some(detail) = problem["detail"].as_str() {
            message.push_str(&format!(": {detail}"));
        }
        for place in problem["errors"].as_array().into_iter().flatten() {
            message.push_str(&format!(
                "\n  --> {}: {}",
                place["where"].as_str().unwrap_or("?"),
                place["message"].as_str().unwrap_or("?")
            ));
        }
    }
    Failure::Invalid(message)
}

fn unreachable(server: &str, error: ureq::Error) -> Failure {
    Failure::Invalid(format!(
        "cannot reach {server}: {error}\n  = help: check the URL (--server or PROVISOR_SERVER) and that the server runs"
    ))
}

fn read_record(directory: &Path) -> Option<PullRecord> {
    let text = std::fs::read_to_string(directory.join(PULL_RECORD)).ok()?;
    serde_json::from_str(&text).ok()
}

fn server_url(remote: &RemoteArgs, record: Option<&PullRecord>) -> Result<String, Failure> {
    remote
        .server
        .clone()
        .or_else(|| record.map(|record| record.server.clone()))
        .map(|url| url.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            Failure::Invalid("which server? give --server URL or set PROVISOR_SERVER".into())
        })
}

pub fn push(args: PushArgs) -> Result<Outcome, Failure> {
    let directory = args
        .assessment
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let record = read_record(&directory);
    let server = server_url(&args.remote, record.as_ref())?;
    let token = token(&args.remote)?;
    let (name, members, _) = super::bundle::assessment_members(&args.assessment)?;
    // The bundle is written to a temporary file and streamed, so its size does not
    // bound memory.
    let mut bundle = tempfile::tempfile()?;
    provisor_bundle::write(
        std::io::BufWriter::new(&mut bundle),
        &name,
        &members,
        &format!("provisor {}", env!("CARGO_PKG_VERSION")),
        &io::now(),
        None,
    )
    .map_err(|error| Failure::Invalid(error.to_string()))?;
    use std::io::Seek;
    bundle.seek(std::io::SeekFrom::Start(0))?;
    let (url, method, target) = match (&args.release, &args.to, &record) {
        (Some(release), _, _) => (
            format!("{server}/api/v1/releases/{release}/assessments"),
            "POST",
            format!("a new assessment of release {release}"),
        ),
        (None, Some(id), record) => {
            let based_on = record
                .as_ref()
                .filter(|record| record.assessment == *id)
                .map(|record| record.revision)
                .ok_or_else(|| {
                    Failure::Invalid(format!(
                        "{} records no pull of {id}: pull it first (provisor pull {id} -o DIR), change it there and push from there",
                        directory.display()
                    ))
                })?;
            (
                format!("{server}/api/v1/assessments/{id}/bundle?based_on={based_on}"),
                "PUT",
                format!("the next revision of {id} (after {based_on})"),
            )
        }
        (None, None, Some(record)) => (
            format!(
                "{server}/api/v1/assessments/{}/bundle?based_on={}",
                record.assessment, record.revision
            ),
            "PUT",
            format!(
                "the next revision of {} (after {})",
                record.assessment, record.revision
            ),
        ),
        (None, None, None) => {
            return Err(Failure::Invalid(
                "push where? give --release ID for a new assessment, or --to ID for one pulled into this directory".into(),
            ));
        }
    };
    let agent = agent(&args.remote)?;
    let request = match method {
        "POST" => agent.post(&url),
        _ => agent.put(&url),
    };
    let mut response = request
        .header("Authorization", &format!("Bearer {token}"))
        .content_type("application/x-tar")
        .send(bundle)
        .map_err(|error| unreachable(&server, error))?;
    if !response.status().is_success() {
        return Err(refused(&server, &mut response));
    }
    let text = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|error| Failure::Internal(error.into()))?;
    let answer: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| Failure::Internal(error.into()))?;
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    let revision = answer["current_revision"].as_i64().unwrap_or_default();
    write_record(
        &directory,
        &PullRecord {
            server: server.clone(),
            assessment: id.clone(),
            revision,
        },
    )?;
    eprintln!(
        "pushed {} as {target}: assessment {id}, revision {revision}, {}",
        args.assessment.display(),
        match answer["conformant"].as_bool() {
            Some(true) => "conformant",
            Some(false) => "not conformant",
            None => "not judged",
        }
    );
    println!("{id}");
    Ok(Outcome::Success)
}

fn write_record(directory: &Path, record: &PullRecord) -> Result<(), Failure> {
    let text =
        serde_json::to_string_pretty(record).map_err(|error| Failure::Internal(error.into()))?;
    io::write_atomically(&directory.join(PULL_RECORD), format!("{text}\n").as_bytes())
}

pub fn pull(args: PullArgs) -> Result<Outcome, Failure> {
    let existing = read_record(&args.output);
    if args.output.exists()
        && existing
            .as_ref()
            .is_none_or(|record| record.assessment != args.id)
    {
        return Err(Failure::Invalid(format!(
            "{} exists and holds no earlier pull of {}: give a new directory",
            args.output.display(),
            args.id
        )));
    }
    let server = server_url(&args.remote, existing.as_ref())?;
    let token = token(&args.remote)?;
    let mut url = format!("{server}/api/v1/assessments/{}/bundle", args.id);
    if let Some(revision) = args.revision {
        url.push_str(&format!("?revision={revision}"));
    }
    let mut response = agent(&args.remote)?
        .get(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|error| unreachable(&server, error))?;
    if !response.status().is_success() {
        return Err(refused(&server, &mut response));
    }
    let revision: i64 = response
        .headers()
        .get("x-provisor-revision")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| Failure::Invalid(format!("{server} did not say which revision it sent")))?;
    // The bundle is verified into a fresh directory beside the target, which replaces
    // the target only when every member matched its manifest.
    let parent = args
        .output
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent)?;
    let staging = tempfile::tempdir_in(&parent)?;
    let mut reader = response
        .body_mut()
        .with_config()
        .limit(ANSWER_LIMIT)
        .reader();
    let verified = provisor_bundle::verify(
        &mut reader as &mut dyn Read,
        None,
        Some(&staging.path().join("tree")),
        provisor_bundle::Limits::default(),
    )
    .map_err(|error| {
        Failure::Invalid(format!("the bundle {server} sent does not verify: {error}"))
    })?;
    let tree = staging.path().join("tree");
    write_record(
        &tree,
        &PullRecord {
            server: server.clone(),
            assessment: args.id.clone(),
            revision,
        },
    )?;
    if args.output.exists() {
        let old = staging.path().join("old");
        std::fs::rename(&args.output, &old)?;
    }
    std::fs::rename(&tree, &args.output)?;
    eprintln!(
        "pulled revision {revision} of {} into {} ({} files)",
        args.id,
        args.output.display(),
        verified.manifest.members.len()
    );
    println!(
        "{}",
        args.output.join(&verified.manifest.assessment).display()
    );
    Ok(Outcome::Success)
}
