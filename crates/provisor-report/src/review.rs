//! The `[review]` table as `provisor review` writes it into an assessment: the report's
//! identity, the decision, and on approval the SHA-256 of everything it covers.

use std::fmt::Write;

use provisor_engine::Review;

/// A TOML basic string.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The TOML of a `[review]` table (and its `[review.inputs]`), ending with a newline.
pub fn review_table(review: &Review) -> String {
    let mut out = String::from(
        "[review]\n# Review and sign-off, written by `provisor review`. On approval it records the\n# SHA-256 of the assessment without this table and of every scan and evidence file;\n# `provisor check` warns when any of them changes afterwards.\n",
    );
    let _ = writeln!(out, "report_id = {}", quoted(&review.report_id));
    let _ = writeln!(out, "revision = {}", review.revision);
    let _ = writeln!(out, "assessor = {}", quoted(&review.assessor));
    if let Some(reviewer) = &review.reviewer {
        let _ = writeln!(out, "reviewer = {}", quoted(reviewer));
    }
    if let Some(decision) = review.decision {
        let _ = writeln!(out, "decision = {}", quoted(decision.as_str()));
    }
    if let Some(date) = review.date {
        let _ = writeln!(out, "date = {date}");
    }
    if let Some(hash) = &review.content_sha256 {
        let _ = writeln!(out, "content_sha256 = {}", quoted(hash));
    }
    if !review.inputs.is_empty() {
        out.push_str("\n[review.inputs]\n");
        for (path, hash) in &review.inputs {
            let _ = writeln!(out, "{} = {}", quoted(path), quoted(hash));
        }
    }
    out
}

/// What a reviewer decides, and the report identity when the file has none yet.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    /// Approve, or request changes.
    pub decision: provisor_engine::Decision,
    /// The report's id (kept from the file's `[review]` when absent).
    pub report_id: Option<String>,
    /// Who assessed (kept from the file when absent).
    pub assessor: Option<String>,
    /// Who reviews.
    pub reviewer: String,
    /// The report revision, when not the next one.
    pub revision: Option<u32>,
    /// The day of the decision.
    pub date: provisor_engine::Date,
}

/// A review applied to an assessment's text: the new text (its `[review]` table
/// replaced at the end), the review, and what a person should know (an approval with
/// provisions still open). Refused, with what to do, when the file has no report
/// identity yet and none is given, or when an approval would cover statements carried
/// by `provisor migrate` that nobody confirmed.
pub fn apply_review(
    text: &str,
    origin: &str,
    assessment: &provisor_engine::Assessment<'_>,
    previous: Option<&Review>,
    request: &ReviewRequest,
) -> Result<(String, Review, Vec<String>), String> {
    use provisor_engine::{Decision, Verdict};
    let report_id = request
        .report_id
        .clone()
        .or_else(|| previous.map(|review| review.report_id.clone()))
        .ok_or_else(|| {
            format!(
                "{origin} has no [review] yet: give the report's id and who assessed\n  = help: provisor review {origin} --report-id LAB-2026-0142 --assessor \"A. Assessor\" --reviewer \"B. Reviewer\" --approve"
            )
        })?;
    let assessor = request
        .assessor
        .clone()
        .or_else(|| previous.map(|review| review.assessor.clone()))
        .ok_or_else(|| format!("{origin} has no [review] yet: say who assessed with --assessor"))?;
    let content = provisor_engine::content_sha256(text);
    let revision = request.revision.unwrap_or(match previous {
        None => 1,
        // A new approval of other content is a new revision of the report.
        Some(review) if review.approved() && review.content_sha256.as_deref() != Some(&content) => {
            review.revision + 1
        }
        Some(review) => review.revision,
    });
    let mut inputs = std::collections::BTreeMap::new();
    let mut notes = Vec::new();
    if request.decision == Decision::Approved {
        let unconfirmed = assessment.unconfirmed();
        if !unconfirmed.is_empty() {
            return Err(format!(
                "{origin}: {} answer(s), statement(s) or test record(s) carried from an earlier release or edition are not confirmed: {}\n  = help: check each against {} and this firmware, remove its `carried` mark, then approve",
                unconfirmed.len(),
                unconfirmed.join(", "),
                assessment.catalog.short_title
            ));
        }
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
            notes.push(format!(
                "approving with {open} provision{} still OPEN",
                if open == 1 { "" } else { "s" }
            ));
        }
    }
    let review = Review {
        report_id,
        revision,
        assessor,
        reviewer: Some(request.reviewer.clone()),
        decision: Some(request.decision),
        date: Some(request.date),
        content_sha256: (request.decision == Decision::Approved).then_some(content),
        inputs,
        line: None,
    };
    let mut new_text = provisor_engine::content_without_review(text)
        .trim_end()
        .to_owned();
    new_text.push_str("\n\n");
    new_text.push_str(&review_table(&review));
    Ok((new_text, review, notes))
}
