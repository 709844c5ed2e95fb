//! `provisor review`: record the reviewer's decision in the assessment's `[review]`
//! table; an approval records the SHA-256 of the assessment's own content and of every
//! scan, evidence and wording file, so that `check` sees a change made after it.

use provisor_engine::Decision;

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
        let request = provisor_report::ReviewRequest {
            decision,
            report_id: args.report_id.clone(),
            assessor: args.assessor.clone(),
            reviewer: args.reviewer.clone(),
            revision: args.revision,
            date: io::today(),
        };
        let (new_text, review, notes) = provisor_report::apply_review(
            text,
            &origin,
            &assessment,
            file.review.as_ref(),
            &request,
        )
        .map_err(Failure::Invalid)?;
        for note in notes {
            io::print_warning(&note);
        }
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
