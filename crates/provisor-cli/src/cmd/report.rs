//! `provisor report`: write a report of an assessment in one of the formats.

use std::io::Write;

use crate::cli::{ReportArgs, ReportFormat};
use crate::{Failure, Outcome, io};

pub fn run(args: ReportArgs) -> Result<Outcome, Failure> {
    let mut assessment = io::load_assessment(&args.assessment)?;
    io::apply_wording(&mut assessment, args.wording.as_deref())?;
    let context = io::report_context(&args.assessment);
    let bytes = match (text(args.format, &assessment, &context), args.format) {
        (Some(text), _) => text.into_bytes(),
        (None, ReportFormat::PstiStatement) => {
            provisor_report::psti_statement(&assessment, &context)
                .map_err(|error| Failure::Invalid(error.to_string()))?
                .into_bytes()
        }
        (None, _) => provisor_report::pdf(&assessment, &context)
            .map_err(|error| Failure::Internal(error.into()))?,
    };
    match &args.output {
        Some(path) => {
            io::write_atomically(path, &bytes)?;
            eprintln!("wrote {}", path.display());
        }
        None if matches!(args.format, ReportFormat::Pdf) => {
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                return Err(Failure::Invalid(
                    "a PDF is not for the terminal\n  = help: write it to a file with -o report.pdf".into(),
                ));
            }
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            stdout.flush()?;
        }
        None => io::print(&String::from_utf8_lossy(&bytes))?,
    }
    Ok(Outcome::Success)
}

/// The report in a text format; `None` for the PDF, which is binary.
fn text(
    format: ReportFormat,
    assessment: &provisor_engine::Assessment<'_>,
    context: &provisor_report::Context,
) -> Option<String> {
    Some(match format {
        ReportFormat::Html => provisor_report::html(assessment, context),
        ReportFormat::Md => provisor_report::markdown(assessment, context),
        ReportFormat::Json => provisor_report::json(assessment, context),
        ReportFormat::Sarif => provisor_report::sarif(assessment, context),
        ReportFormat::IcsCsv => provisor_report::ics_csv(assessment),
        ReportFormat::Junit => provisor_report::junit(assessment, context),
        ReportFormat::OscalSsp => provisor_report::oscal_ssp(assessment, context),
        ReportFormat::OscalAp => provisor_report::oscal_ap(assessment, context),
        ReportFormat::OscalAr => provisor_report::oscal_ar(assessment, context),
        ReportFormat::PstiStatement => return None,
        ReportFormat::Pdf => return None,
    })
}
