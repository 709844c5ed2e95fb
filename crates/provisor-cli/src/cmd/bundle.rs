//! `provisor bundle` and `provisor verify`: an assessment with its scans, evidence, wording and
//! reports in one tar with a manifest of hashes (signed with an OpenSSH key when asked),
//! and the check of such a tar, with safe extraction.

use std::path::Path;

use provisor_bundle::{BundleError, Member, Role, Source, Trust};
use provisor_engine::{IxitValue, SecretRef};

use crate::cli::{BundleArgs, VerifyArgs};
use crate::{Failure, Outcome, io};

fn bundle_failure(error: BundleError) -> Failure {
    match error {
        BundleError::Io { .. } => Failure::Invalid(error.to_string()),
        other => Failure::Invalid(other.to_string()),
    }
}

/// The members of an assessment's bundle that come from disk: the assessment file, its
/// scans, its evidence and its wording file (never an IXIT secrets file), with the
/// judged assessment and the file's name.
pub fn assessment_members(
    path: &Path,
) -> Result<(String, Vec<Member>, provisor_engine::Assessment<'static>), Failure> {
    let file = io::parse_assessment(path)?;
    let assessment = io::judge(path, &file)?;
    let directory = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| Failure::Invalid("the assessment is not a file".into()))?;
    // Secrets files named by IXIT entries never travel in a bundle.
    let secrets: Vec<String> = assessment
        .ixit
        .iter()
        .flat_map(|entry| entry.fields.values())
        .filter_map(|value| match value {
            IxitValue::Secret(SecretRef::File { file, .. }) => Some(file.clone()),
            _ => None,
        })
        .collect();
    let mut members = vec![Member {
        path: name.clone(),
        role: Role::Assessment,
        source: Source::File(path.to_path_buf()),
    }];
    for scan in &assessment.scans {
        members.push(Member {
            path: scan.file.clone(),
            role: Role::Scan,
            source: Source::File(directory.join(&scan.file)),
        });
    }
    for evidence in assessment
        .evidence
        .iter()
        .filter(|evidence| !evidence.is_url())
    {
        if secrets.contains(&evidence.path) {
            return Err(Failure::Invalid(format!(
                "{} is cited as evidence and is also a secrets file of the IXIT; secrets never go into a bundle\n  = help: keep credentials in a file of their own, and cite another file as evidence",
                evidence.path
            )));
        }
        members.push(Member {
            path: evidence.path.clone(),
            role: Role::Evidence,
            source: Source::File(directory.join(&evidence.path)),
        });
    }
    if let Some(wording) = &assessment.wording {
        members.push(Member {
            path: wording.file.clone(),
            role: Role::Wording,
            source: Source::File(directory.join(&wording.file)),
        });
    }
    Ok((name, members, assessment))
}

pub fn run(args: BundleArgs) -> Result<Outcome, Failure> {
    let (name, mut members, assessment) = assessment_members(&args.assessment)?;
    let context = io::report_context(&args.assessment);
    for (path, text) in [
        (
            "reports/report.html",
            provisor_report::html(&assessment, &context),
        ),
        (
            "reports/report.md",
            provisor_report::markdown(&assessment, &context),
        ),
        (
            "reports/report.json",
            provisor_report::json(&assessment, &context),
        ),
    ] {
        members.push(Member {
            path: path.into(),
            role: Role::Report,
            source: Source::Bytes(text.into_bytes()),
        });
    }
    let signer = args
        .sign
        .as_deref()
        .map(|key| {
            let passphrase = std::env::var("PROVISOR_KEY_PASSPHRASE").ok();
            provisor_bundle::load_private_key(key, passphrase.as_deref())
        })
        .transpose()
        .map_err(bundle_failure)?;
    let mut bytes = Vec::new();
    let manifest = provisor_bundle::write(
        &mut bytes,
        &name,
        &members,
        &format!("provisor {}", env!("CARGO_PKG_VERSION")),
        &io::now(),
        signer.as_ref(),
    )
    .map_err(bundle_failure)?;
    io::write_atomically(&args.output, &bytes)?;
    eprintln!(
        "wrote {} ({} members{})",
        args.output.display(),
        manifest.members.len(),
        if signer.is_some() {
            ", signed"
        } else {
            ", not signed"
        }
    );
    Ok(Outcome::Success)
}

pub fn verify(args: VerifyArgs) -> Result<Outcome, Failure> {
    let key = args
        .key
        .as_deref()
        .map(provisor_bundle::load_public_key)
        .transpose()
        .map_err(bundle_failure)?;
    let file = std::fs::File::open(&args.bundle).map_err(|error| {
        Failure::Invalid(format!("cannot read {}: {error}", args.bundle.display()))
    })?;
    // Extract into a fresh directory beside the target, renamed into place only when
    // every member verified.
    let staging = match &args.extract {
        Some(target) => {
            if target.exists() {
                return Err(Failure::Invalid(format!(
                    "{} exists; give a new directory to extract into",
                    target.display()
                )));
            }
            let parent = target
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Some(
                tempfile::Builder::new()
                    .prefix(".provisor-extract")
                    .tempdir_in(parent)
                    .map_err(|error| {
                        Failure::Invalid(format!(
                            "cannot create a directory in {}: {error}",
                            parent.display()
                        ))
                    })?,
            )
        }
        None => None,
    };
    let verified = provisor_bundle::verify(
        std::io::BufReader::new(file),
        key.as_ref(),
        staging.as_ref().map(|directory| directory.path()),
        provisor_bundle::Limits::default(),
    )
    .map_err(|error| Failure::Invalid(format!("{}: {error}", args.bundle.display())))?;
    let members = verified.manifest.members.len();
    let mut out = format!(
        "{}: {members} member{} match{} the manifest (assessment {}, made by {} at {})\n",
        args.bundle.display(),
        if members == 1 { "" } else { "s" },
        if members == 1 { "es" } else { "" },
        verified.manifest.assessment,
        verified.manifest.tool,
        verified.manifest.created
    );
    let trust = match &verified.trust {
        Trust::Signed { fingerprint } => format!("signature: good, by the key {fingerprint}"),
        Trust::SignedUnchecked => {
            "signature: present but not checked; give the signer's public key with --key".into()
        }
        Trust::Unsigned => "signature: none. Damaged or swapped files are detected, but not a manifest rewritten to match them; sign bundles with `provisor bundle --sign KEY`".into(),
    };
    out.push_str(&trust);
    out.push('\n');
    if let (Some(staging), Some(target)) = (staging, &args.extract) {
        let staged = staging.keep();
        std::fs::rename(&staged, target).map_err(|error| {
            let _ = std::fs::remove_dir_all(&staged);
            Failure::Invalid(format!("cannot extract into {}: {error}", target.display()))
        })?;
        out.push_str(&format!("extracted into {}\n", target.display()));
    }
    io::print(&out)?;
    Ok(Outcome::Success)
}
