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
