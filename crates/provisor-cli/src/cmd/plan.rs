//! `provisor plan`: the TS 103 701 test plan of an assessment, as a table, Markdown, CSV
//! or JSON.

use crate::cli::{PlanArgs, PlanFormat};
use crate::{Failure, Outcome, io};

pub fn run(args: PlanArgs) -> Result<Outcome, Failure> {
    let mut file = io::parse_assessment(&args.assessment)?;
    // A self-assessment is planned as the lab would test it.
    file.kind = provisor_engine::Kind::Lab;
    let assessment = io::judge(&args.assessment, &file)?;
    let items = provisor_engine::plan(&assessment);
    let text = match args.format {
        PlanFormat::Table => provisor_report::plan_table(&assessment, &items),
        PlanFormat::Md => provisor_report::plan_markdown(&assessment, &items),
        PlanFormat::Csv => provisor_report::plan_csv(&items),
        PlanFormat::Json => {
            provisor_report::plan_json(&assessment, &items, &io::report_context(&args.assessment))
        }
    };
    io::deliver(&text, args.output.as_deref())?;
    Ok(Outcome::Success)
}
