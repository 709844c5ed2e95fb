//! `provisor triage`: the failing findings that decide verdicts (and those accepted),
//! stubs of `[[accept]]` entries to fill in, or one acceptance added to the assessment
//! under its lock.

use provisor_engine::{AcceptanceKind, Date};

use crate::cli::{AcceptKind, TriageArgs};
use crate::{Failure, Outcome, io};

pub fn run(args: TriageArgs) -> Result<Outcome, Failure> {
    let assessment = io::load_assessment(&args.assessment)?;
    if let Some(wanted) = &args.accept {
        return accept(&args, &assessment, wanted);
    }
    let text = if args.stubs {
        provisor_report::triage_stubs(&assessment)
    } else {
        provisor_report::triage_table(&assessment)
    };
    io::print(&text)?;
    Ok(Outcome::Success)
}

/// Adds an `[[accept]]` entry for the finding `wanted` names.
fn accept(
    args: &TriageArgs,
    assessment: &provisor_engine::Assessment<'_>,
    wanted: &str,
) -> Result<Outcome, Failure> {
    let candidates: Vec<&provisor_engine::Finding> = assessment
        .findings
        .iter()
        .filter(|finding| finding.id.starts_with(wanted))
        .collect();
    let finding = match candidates.as_slice() {
        [finding] => *finding,
        [] => {
            return Err(Failure::Invalid(format!(
                "no finding of {}'s scans has an id starting with \"{wanted}\"\n  = help: `provisor triage {}` lists the failing findings with their ids",
                args.assessment.display(),
                args.assessment.display()
            )));
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|finding| finding.id.as_str()).collect();
            return Err(Failure::Invalid(format!(
                "\"{wanted}\" starts {} finding ids ({}); give more of the id",
                many.len(),
                ids.join(", ")
            )));
        }
    };
    let until = match &args.until {
        None => None,
        Some(text) => Some(Date::parse(text).ok_or_else(|| {
            Failure::Invalid(format!(
                "--until {text} is not a date\n  = help: write the last day the acceptance holds as YYYY-MM-DD, for example 2027-06-30"
            ))
        })?),
    };
    let reason = args.reason.as_deref().unwrap_or_default().trim();
    let by = args.by.as_deref().unwrap_or_default().trim();
    if reason.is_empty() || by.is_empty() {
        return Err(Failure::Invalid(
            "an acceptance needs a reason and who accepts it\n  = help: --reason \"why the finding does not count\" --by \"name <email>\"".into(),
        ));
    }
    let kind = match args.kind {
        Some(AcceptKind::AcceptedRisk) => AcceptanceKind::AcceptedRisk,
        _ => AcceptanceKind::FalsePositive,
    };
    let entry = provisor_report::acceptance_entry(finding, kind, reason, by, until);
    let id = finding.id.clone();
    let added = io::update_assessment(&args.assessment, |text| {
        let file = provisor_engine::parse(text, &args.assessment.display().to_string())
            .map_err(|error| Failure::Invalid(io::render_errors(&[error])))?;
        let already = file.acceptances.iter().any(|acceptance| {
            acceptance.selector == provisor_engine::Selector::Finding(id.clone())
        });
        if already {
            return Ok((None, false));
        }
        let mut text = text.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&entry);
        Ok((Some(text), true))
    })?;
    if added {
        eprintln!(
            "accepted finding {id} ({}) in {}",
            finding.title,
            args.assessment.display()
        );
    } else {
        eprintln!(
            "finding {id} is already accepted in {}",
            args.assessment.display()
        );
    }
    Ok(Outcome::Success)
}
