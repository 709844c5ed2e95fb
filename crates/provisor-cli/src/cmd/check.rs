//! `provisor check`: judge an assessment and print the verdicts; exit 1 when the device
//! is not conformant.

use crate::cli::{CheckArgs, CheckFormat};
use crate::{Failure, Outcome, io};

pub fn run(args: CheckArgs) -> Result<Outcome, Failure> {
    let mut assessment = io::load_assessment(&args.assessment)?;
    io::apply_wording(&mut assessment, args.wording.as_deref())?;
    let text = match args.format {
        CheckFormat::Table => provisor_report::check_table(&assessment),
        CheckFormat::Json => {
            provisor_report::json(&assessment, &io::report_context(&args.assessment))
        }
    };
    io::print(&text)?;
    Ok(if assessment.conformant {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
