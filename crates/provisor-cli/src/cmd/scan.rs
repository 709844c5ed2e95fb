//! `provisor scan firmware` and `provisor scan host`: examine an image or a live device,
//! print or write the findings, and attach them to an assessment; exit 1 when a finding
//! fails.

use std::path::Path;

use provisor_engine::FindingsFile;

use crate::cli::{FirmwareArgs, HostArgs, ScanFormat};
use crate::{Failure, Outcome, io};

/// The advisory database at `path`, loaded before any scanning starts.
fn advisories(
    path: Option<&std::path::Path>,
) -> Result<Option<std::sync::Arc<provisor_advisories::Database>>, Failure> {
    path.map(|path| super::advisories::load(path).map(std::sync::Arc::new))
        .transpose()
}

pub fn firmware(args: FirmwareArgs) -> Result<Outcome, Failure> {
    // Refuse a broken assessment before spending time on the image.
    let acceptances = acceptances_of(args.assessment.as_deref())?;
    let advisories = advisories(args.advisories.as_deref())?;
    let bar = progress_bar();
    let options = provisor_firmware::ScanOptions {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        progress: bar.clone().map(report_to),
        advisories,
        ..Default::default()
    };
    let result = provisor_firmware::scan(&args.image, &options);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let findings = result.map_err(|error| Failure::Invalid(error.to_string()))?;
    if args.tree && matches!(args.format, ScanFormat::Text) {
        let text = format!(
            "{}\n{}",
            provisor_report::container_tree(&findings),
            provisor_report::findings_text(&findings)
        );
        io::deliver(&text, args.output.as_deref())?;
    } else {
        deliver(&findings, args.format, args.output.as_deref())?;
    }
    if let Some(sbom) = &args.sbom {
        let text = provisor_report::sbom_cyclonedx(&findings, &io::now());
        io::write_atomically(sbom, text.as_bytes())?;
        eprintln!("wrote {}", sbom.display());
    }
    if let Some(assessment) = &args.assessment {
        let stem = args
            .image
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        attach(assessment, &format!("firmware-{stem}"), &findings)?;
    }
    Ok(outcome_of(
        &findings,
        &acceptances,
        args.assessment.as_deref(),
    ))
}

pub fn host(args: HostArgs) -> Result<Outcome, Failure> {
    let acceptances = acceptances_of(args.assessment.as_deref())?;
    let ports = provisor_net::PortSpec::parse(&args.ports)
        .map_err(|error| Failure::Invalid(error.to_string()))?;
    let declared = match &args.assessment {
        Some(path) => super::interfaces::of_assessment(path)?,
        None => provisor_net::Ixit::default(),
    };
    let ixit = match &args.ixit {
        Some(path) => declared.merged_with(
            provisor_net::Ixit::load(path).map_err(|error| Failure::Invalid(error.to_string()))?,
        ),
        None => declared,
    };
    let advisories = advisories(args.advisories.as_deref())?;
    let bar = progress_bar();
    let mut options = provisor_net::HostOptions {
        ports,
        discovery: provisor_net::Discovery {
            concurrency: args.concurrency as usize,
            connect_timeout: std::time::Duration::from_millis(args.connect_timeout),
            ..Default::default()
        },
        deadlines: provisor_net::Deadlines {
            connect: std::time::Duration::from_millis(args.connect_timeout),
            banner: std::time::Duration::from_millis(args.banner_timeout),
            answer: std::time::Duration::from_millis(args.answer_timeout),
        },
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        auth_tests: !args.no_auth_tests,
        udp: !args.no_udp,
        authorised: args.i_am_authorised,
        max_login_attempts: args.max_login_attempts as usize,
        ixit,
        advisories,
        progress: bar.clone().map(report_to),
        ..Default::default()
    };
    let mut result = provisor_net::scan_host_blocking(&args.host, &options);
    if let Err(provisor_net::NetError::NotAuthorised { host }) = &result {
        // On a terminal, ask (nothing has been sent yet); piped, the error says what to
        // pass.
        let confirmed = std::io::IsTerminal::is_terminal(&std::io::stdin())
            && match &bar {
                Some(bar) => bar.suspend(|| confirm(host)),
                None => confirm(host),
            };
        if confirmed {
            options.authorised = true;
            result = provisor_net::scan_host_blocking(&args.host, &options);
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let findings = result.map_err(|error| Failure::Invalid(error.to_string()))?;
    deliver(&findings, args.format, args.output.as_deref())?;
    if let Some(assessment) = &args.assessment {
        attach(assessment, &format!("host-{}", args.host), &findings)?;
    }
    Ok(outcome_of(
        &findings,
        &acceptances,
        args.assessment.as_deref(),
    ))
}

/// The acceptances in force in the assessment a scan attaches to (none without one);
/// parsing it first also refuses a broken assessment before the scan starts.
fn acceptances_of(assessment: Option<&Path>) -> Result<Vec<provisor_engine::Acceptance>, Failure> {
    let Some(path) = assessment else {
        return Ok(Vec::new());
    };
    let file = io::parse_assessment(path)?;
    let today = io::today();
    Ok(file
        .acceptances
        .into_iter()
        .filter(|acceptance| !acceptance.expired(Some(today)))
        .collect())
}

/// Asks on the terminal whether credentials may be sent to `host`.
fn confirm(host: &str) -> bool {
    eprint!(
        "{host} is not this machine. provisor will try default and wrong passwords on its login interfaces.\nAre you authorised to test it? [y/N] "
    );
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Prints the findings, or writes them to `output`, in `format`.
fn deliver(
    findings: &FindingsFile,
    format: ScanFormat,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let text = match format {
        ScanFormat::Text => provisor_report::findings_text(findings),
        ScanFormat::Json => provisor_report::findings_json(findings),
        ScanFormat::Sarif => provisor_report::findings_sarif(findings),
    };
    io::deliver(&text, output)
}

/// A scanner's progress callback (both scanners take the same kind) that moves `bar`.
fn report_to(bar: indicatif::ProgressBar) -> provisor_net::Progress {
    std::sync::Arc::new(move |stage: &str, done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(stage.to_owned());
    })
}

/// A scan with a failing finding that the assessment does not accept exits 1, so a CI
/// job keeps its image's accepted false positives in the assessment and fails only on
/// new findings.
fn outcome_of(
    findings: &FindingsFile,
    acceptances: &[provisor_engine::Acceptance],
    assessment: Option<&Path>,
) -> Outcome {
    let (accepted, deciding): (Vec<_>, Vec<_>) = findings
        .findings
        .iter()
        .filter(|finding| finding.outcome == provisor_engine::Outcome::Fail)
        .partition(|finding| {
            acceptances
                .iter()
                .any(|acceptance| acceptance.selector.matches(finding))
        });
    if let (false, Some(path)) = (accepted.is_empty(), assessment) {
        eprintln!(
            "{} failing finding{} accepted in {}; {} not",
            accepted.len(),
            if accepted.len() == 1 { " is" } else { "s are" },
            path.display(),
            deciding.len()
        );
    }
    if deciding.is_empty() {
        Outcome::Success
    } else {
        Outcome::Negative
    }
}

/// A progress bar on standard error when it is a terminal; nothing when piped.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::new(1);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// Writes the findings to `scans/<name>.json` beside the assessment (the name made safe
/// for a file name) and adds the `[[scan]]` entry if it is not there yet; both writes
/// are atomic.
fn attach(assessment: &Path, name: &str, findings: &FindingsFile) -> Result<(), Failure> {
    let directory = assessment
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let relative = provisor_engine::scan_file_path(name);
    let scans = directory.join("scans");
    std::fs::create_dir_all(&scans)
        .map_err(|error| Failure::Invalid(format!("cannot create {}: {error}", scans.display())))?;
    let target = directory.join(&relative);
    io::write_atomically(&target, provisor_report::findings_json(findings).as_bytes())?;

    // Under the assessment's lock, and re-read there, so that scans attaching at once
    // keep every entry.
    io::update_assessment(assessment, |text| {
        let text =
            provisor_engine::with_scan_entry(text, &assessment.display().to_string(), &relative)
                .map_err(|error| Failure::Invalid(io::render_errors(&[error])))?;
        Ok((text, ()))
    })?;
    eprintln!("attached {} to {}", target.display(), assessment.display());
    Ok(())
}
