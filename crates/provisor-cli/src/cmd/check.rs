//! `provisor check`: judge an assessment and print the verdicts; exit 1 when the device
//! is not conformant (with `--regime`, when a requirement of the regime is not met).

use crate::cli::{CheckArgs, CheckFormat};
use crate::{Failure, Outcome, io};

pub fn run(args: CheckArgs) -> Result<Outcome, Failure> {
    let regime = args
        .regime
        .as_deref()
        .map(|id| {
            provisor_catalog::regime(id).ok_or_else(|| {
                Failure::Invalid(format!(
                    "unknown regime \"{id}\"\n  = help: regimes known to this version: {}",
                    provisor_catalog::regime_ids().join(", ")
                ))
            })
        })
        .transpose()?;
    let mut assessment = io::load_assessment(&args.assessment)?;
    io::apply_wording(&mut assessment, args.wording.as_deref())?;
    let view = regime
        .map(|regime| {
            provisor_engine::regime_view(&assessment, regime).ok_or_else(|| {
                Failure::Invalid(format!(
                    "{} cites {}; an assessment of {} cannot be read against it",
                    regime.title, regime.edition, assessment.catalog.id
                ))
            })
        })
        .transpose()?;
    let mut text = match args.format {
        CheckFormat::Table => provisor_report::check_table(&assessment),
        CheckFormat::Json => {
            provisor_report::json(&assessment, &io::report_context(&args.assessment))
        }
    };
    if let (Some(view), CheckFormat::Table) = (&view, args.format) {
        text.push_str(&provisor_report::regime_table(view));
    }
    io::print(&text)?;
    let fine = match &view {
        Some(view) => view.met(),
        None => assessment.conformant,
    };
    Ok(if fine {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
