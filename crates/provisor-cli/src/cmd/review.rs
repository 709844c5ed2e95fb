//! `provisor review`: record the reviewer's decision in the assessment's `[review]`
//! table; an approval records the SHA-256 of the assessment's own content and of every
//! scan, evidence and wording file, so that `check` sees a change made after it.

use std::collections::BTreeMap;

use provisor_engine::{Decision, Review, Verdict};

use crate::cli::ReviewArgs;
use crate::{Failure, Outcome, io};

pub fn run(args: ReviewArgs) -> Result<Outcome, Failure> {
    let path = &args.assessment;
    let origin = path.display().to_string();
    let decision = if args.approve {
        Decision::Approved
    } else {
        Decision::ChangesRequested
    };
    let review = io::update_assessment(path, |text| {
        let file = provisor_engine::parse(text, &origin)
            .map_err(|error| Failure::Invalid(io::render_errors(&[error])))?;
        let assessment = io::judge(path, &file)?;
        let previous = file.review.clone();
        let report_id = args
            .report_id
            .clone()
            .or_else(|| previous.as_ref().map(|review| review.report_id.clone()))
            .ok_or_else(|| {
                Failure::Invalid(format!(
                    "{origin} has no [review] yet: give the report's id and who assessed\n  = help: provisor review {origin} --report-id LAB-2026-0142 --assessor \"A. Assessor\" --reviewer \"B. Reviewer\" --approve"
                ))
            })?;
        let assessor = args
            .assessor
            .clone()
            .or_else(|| previous.as_ref().map(|review| review.assessor.clone()))
            .ok_or_else(|| {
                Failure::Invalid(format!(
                    "{origin} has no [review] yet: say who assessed with --assessor"
                ))
            })?;
        let content = provisor_engine::content_sha256(text);
        let revision = args.revision.unwrap_or_else(|| match &previous {
            None => 1,
            // A new approval of other content is a new revision of the report.
            Some(review)
                if review.approved() && review.content_sha256.as_deref() != Some(&content) =>
            {
                review.revision + 1
            }
            Some(review) => review.revision,
        });
        let mut inputs = BTreeMap::new();
        let unconfirmed = assessment.unconfirmed();
        if decision == Decision::Approved && !unconfirmed.is_empty() {
            return Err(Failure::Invalid(format!(
                "{origin}: {} statement(s) or test record(s) carried by `provisor migrate` are not confirmed: {}\n  = help: check each against {}, remove its `carried` line, then approve",
                unconfirmed.len(),
                unconfirmed.join(", "),
                assessment.catalog.short_title
            )));
        }
        if decision == Decision::Approved {
            for scan in &assessment.scans {
                inputs.insert(scan.file.clone(), scan.sha256.clone());
            }
            for evidence in &assessment.evidence {
                if let Some(sha256) = &evidence.sha256 {
                    inputs.insert(evidence.path.clone(), sha256.clone());
                }
            }
            if let Some(wording) = &assessment.wording {
                inputs.insert(wording.file.clone(), wording.sha256.clone());
            }
            let open = assessment
                .provisions
                .iter()
                .filter(|result| result.verdict == Verdict::Open)
                .count();
            if open > 0 {
                io::print_warning(&format!(
                    "approving with {open} provision{} still OPEN",
                    if open == 1 { "" } else { "s" }
                ));
            }
        }
        let review = Review {
            report_id,
            revision,
            assessor,
            reviewer: Some(args.reviewer.clone()),
            decision: Some(decision),
            date: Some(io::today()),
            content_sha256: (decision == Decision::Approved).then_some(content),
            inputs,
            line: None,
        };
        let mut new_text = provisor_engine::content_without_review(text)
            .trim_end()
            .to_owned();
        new_text.push_str("\n\n");
        new_text.push_str(&provisor_report::review_table(&review));
        Ok((Some(new_text), review))
    })?;
    eprintln!(
        "{} revision {} of report {} in {}",
        match decision {
            Decision::Approved => "approved",
            Decision::ChangesRequested => "requested changes to",
        },
        review.revision,
        review.report_id,
        path.display()
    );
    Ok(Outcome::Success)
}
