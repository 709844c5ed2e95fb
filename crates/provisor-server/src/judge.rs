//! An assessment revision judged by the engine, exactly as `provisor check` judges the
//! same files on disk: the assessment file is parsed, and the scans, wording and
//! evidence it names are read from the blob directory through the engine's `Files`
//! trait (evidence only by its recorded hash and size). Judging is CPU work on
//! synchronous reads, so it runs on the blocking pool.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use provisor_engine::{Assessment, AssessmentFile, Files, InputError};
use provisor_store::FileRecord;

use crate::{ApiError, AppState, ProblemPlace};

/// The largest file the engine reads whole (an assessment, a scan, a wording file).
pub const READ_LIMIT: u64 = 256 << 20;

/// A judged revision.
pub struct Judged {
    /// The parsed file.
    pub file: AssessmentFile,
    /// The judgement.
    pub assessment: Assessment<'static>,
}

struct BlobFiles {
    files: BTreeMap<String, (PathBuf, String, i64)>,
}

impl Files for BlobFiles {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        let (location, _, size) = self
            .files
            .get(path)
            .ok_or_else(|| "the assessment's files on the server do not include it; upload it with the assessment".to_owned())?;
        if *size as u64 > READ_LIMIT {
            return Err(format!("larger than {READ_LIMIT} bytes"));
        }
        let mut bytes = Vec::with_capacity(*size as usize);
        std::fs::File::open(location)
            .and_then(|file| file.take(READ_LIMIT + 1).read_to_end(&mut bytes))
            .map_err(|error| format!("the server cannot read its copy: {error}"))?;
        Ok(bytes)
    }

    fn digest(&self, path: &str) -> Option<Result<(String, u64), String>> {
        Some(
            self.files
                .get(path)
                .map(|(_, sha256, size)| (sha256.clone(), *size as u64))
                .ok_or_else(|| {
                    "the assessment's files on the server do not include it; upload it with the assessment".to_owned()
                }),
        )
    }
}

/// The places of the engine's input errors, for a problem document.
pub fn places(errors: &[InputError]) -> Vec<ProblemPlace> {
    errors
        .iter()
        .map(|error| ProblemPlace {
            location: error.place().unwrap_or_else(|| "assessment".to_owned()),
            message: match &error.help {
                Some(help) => format!("{} ({help})", error.message),
                None => error.message.clone(),
            },
        })
        .collect()
}

/// The checks whose failures are known vulnerabilities matched to components.
const VULNERABILITY_CHECKS: &[&str] = &["firmware.known-vulnerabilities"];

/// A judged revision's verdicts counted for the portfolio: mandatory and recommended
/// provisions passed, unmet (failed or not fulfilled) and open, those that do not
/// apply, and the known vulnerabilities the attached scans matched (each component and
/// advisory once, accepted or not: an acceptance says why it may stay, not that it is
/// gone; -1 when no attached scan matched components against advisories).
pub fn counts(assessment: &Assessment<'_>) -> provisor_store::Counts {
    use provisor_engine::Verdict;
    let (mandatory, recommended) = (
        &assessment.summary.mandatory,
        &assessment.summary.recommended,
    );
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    // Checked when an attached scan matched components against advisories (it then
    // passes or fails); otherwise the count is unknown, not zero.
    let checked = assessment.findings.iter().any(|finding| {
        VULNERABILITY_CHECKS.contains(&finding.check.as_str())
            && matches!(
                finding.outcome,
                provisor_engine::Outcome::Pass | provisor_engine::Outcome::Fail
            )
    });
    let vulnerabilities: std::collections::BTreeSet<&str> = assessment
        .findings
        .iter()
        .filter(|finding| {
            finding.outcome == provisor_engine::Outcome::Fail
                && VULNERABILITY_CHECKS.contains(&finding.check.as_str())
        })
        .map(|finding| finding.id.as_str())
        .collect();
    provisor_store::Counts {
        mandatory_pass: count(mandatory.of(Verdict::Pass)),
        mandatory_unmet: count(mandatory.of(Verdict::Fail) + mandatory.of(Verdict::NotFulfilled)),
        mandatory_open: count(mandatory.of(Verdict::Open)),
        recommended_pass: count(recommended.of(Verdict::Pass)),
        recommended_unmet: count(
            recommended.of(Verdict::Fail) + recommended.of(Verdict::NotFulfilled),
        ),
        recommended_open: count(recommended.of(Verdict::Open)),
        not_applicable: count(
            mandatory.of(Verdict::NotApplicable) + recommended.of(Verdict::NotApplicable),
        ),
        vulnerabilities: if checked {
            count(vulnerabilities.len())
        } else {
            -1
        },
    }
}

/// Today, for the expiry of acceptances.
pub fn today() -> provisor_engine::Date {
    provisor_engine::Date::from_unix_seconds(
        u64::try_from(provisor_store::now_ms() / 1000).unwrap_or(0),
    )
}

/// Judges a tree of files of an organisation: `main_file` is the assessment file.
pub async fn judge(
    state: &AppState,
    organisation: &str,
    main_file: &str,
    files: &[FileRecord],
) -> Result<Judged, ApiError> {
    let blobs = state.store().blobs();
    let mut located = BTreeMap::new();
    for file in files {
        located.insert(
            file.path.clone(),
            (
                blobs.local_file(organisation, &file.sha256).await?,
                file.sha256.clone(),
                file.size,
            ),
        );
    }
    let main_file = main_file.to_owned();
    let files = BlobFiles { files: located };
    tokio::task::spawn_blocking(move || {
        let bytes = files.read(&main_file).map_err(|reason| {
            ApiError::invalid(
                format!("cannot read the assessment file {main_file}: {reason}"),
                Vec::new(),
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|error| {
            ApiError::invalid(
                format!(
                    "the assessment file {main_file} is not UTF-8 text (invalid byte at offset {})",
                    error.utf8_error().valid_up_to()
                ),
                Vec::new(),
            )
        })?;
        let file = provisor_engine::parse(&text, &main_file).map_err(|error| {
            ApiError::invalid(
                "the assessment file is not valid",
                places(std::slice::from_ref(&error)),
            )
        })?;
        let assessment =
            provisor_engine::load_as_of(&file, &files, Some(today())).map_err(|errors| {
                ApiError::invalid("the assessment cannot be judged", places(&errors))
            })?;
        Ok(Judged { file, assessment })
    })
    .await
    .map_err(ApiError::internal)?
}
