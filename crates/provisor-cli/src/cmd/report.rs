//! `provisor report`: write a report of an assessment in one of the formats.

use crate::cli::{ReportArgs, ReportFormat};
use crate::{Failure, Outcome, io};

pub fn run(args: ReportArgs) -> Result<Outcome, Failure> {
    let assessment = io::load_assessment(&args.assessment)?;
    let context = io::report_context(&args.assessment);
    let text = match args.format {
        ReportFormat::Html => provisor_report::html(&assessment, &context),
        ReportFormat::Md => provisor_report::markdown(&assessment, &context),
        ReportFormat::Json => provisor_report::json(&assessment, &context),
        ReportFormat::Sarif => provisor_report::sarif(&assessment, &context),
        ReportFormat::IcsCsv => provisor_report::ics_csv(&assessment),
        ReportFormat::Junit => provisor_report::junit(&assessment, &context),
        ReportFormat::OscalSsp => provisor_report::oscal_ssp(&assessment, &context),
        ReportFormat::OscalAp => provisor_report::oscal_ap(&assessment, &context),
        ReportFormat::OscalAr => provisor_report::oscal_ar(&assessment, &context),
    };
    match &args.output {
        Some(path) => {
            io::write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => io::print(&text)?,
    }
    Ok(Outcome::Success)
}
