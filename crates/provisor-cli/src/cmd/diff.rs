//! `provisor diff`: verdict changes between two assessments, regressions first; exit 1
//! on a regression so CI can fail a build.

use std::path::Path;

use provisor_engine::Verdict;

use crate::cli::{DiffArgs, DiffFormat};
use crate::{Failure, Outcome, io};

type Verdicts = (Vec<(String, String, Verdict)>, bool, String);

/// Reads either form of an assessment: `provisor.assessment/2` (or /1) JSON, or a TOML
/// file.
fn verdicts(path: &Path) -> Result<Verdicts, Failure> {
    let text = io::read_text(path)?;
    if text.trim_start().starts_with('{') {
        let document: provisor_report::AssessmentDocument =
            serde_json::from_str(&text).map_err(|error| {
                Failure::Invalid(format!(
                    "{}:{}:{}: not a provisor.assessment document: {error}",
                    path.display(),
                    error.line(),
                    error.column()
                ))
            })?;
        if document.schema != provisor_report::ASSESSMENT_SCHEMA
            && document.schema != provisor_report::ASSESSMENT_SCHEMA_V1
        {
            return Err(Failure::Invalid(format!(
                "{}: unsupported schema \"{}\", expected \"{}\"",
                path.display(),
                document.schema,
                provisor_report::ASSESSMENT_SCHEMA
            )));
        }
        let list = provisor_report::verdicts_of_document(&document).ok_or_else(|| {
            Failure::Invalid(format!(
                "{}: a provision has an unknown verdict",
                path.display()
            ))
        })?;
        Ok((list, document.conformant, document.edition))
    } else {
        let assessment = io::load_assessment(path)?;
        let list = assessment
            .provisions
            .iter()
            .map(|result| {
                (
                    result.provision.id.clone(),
                    result.provision.status.letter().to_owned(),
                    result.verdict,
                )
            })
            .collect();
        Ok((list, assessment.conformant, assessment.catalog.id.clone()))
    }
}

pub fn run(args: DiffArgs) -> Result<Outcome, Failure> {
    let (before, conformant_before, edition_before) = verdicts(&args.old)?;
    let (after, conformant_after, edition_after) = verdicts(&args.new)?;
    if edition_before != edition_after {
        let mapped = [
            (&edition_before, &edition_after),
            (&edition_after, &edition_before),
        ]
        .iter()
        .any(|(older, newer)| {
            provisor_catalog::edition(newer)
                .and_then(|catalog| catalog.migration.as_ref())
                .is_some_and(|migration| &&migration.from == older)
        });
        eprintln!(
            "note: the assessments use different editions ({edition_before} and {edition_after}); {}",
            if mapped {
                "provisions are matched by the migration map"
            } else {
                "provisions are matched by id"
            }
        );
    }
    let diff = provisor_engine::diff_editions(
        &before,
        &edition_before,
        &after,
        &edition_after,
        (conformant_before, conformant_after),
    );
    let text = match args.format {
        DiffFormat::Text => provisor_report::diff_text(&diff),
        DiffFormat::Json => provisor_report::diff_json(&diff),
    };
    io::print(&text)?;
    Ok(if diff.has_regression() {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}
