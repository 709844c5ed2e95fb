//! Review and sign-off (`[review]`): who assessed, who reviewed, the decision, and, on
//! approval, the SHA-256 of every input the approval covered (the assessment's own
//! content without the `[review]` table, the scans, the evidence), so that a change
//! after approval is seen.

use std::collections::BTreeMap;
use std::fmt;

use crate::lab::Date;

/// The reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The report may be issued.
    Approved,
    /// The assessor has to change something first.
    ChangesRequested,
}

impl Decision {
    /// The file spelling: `approved` or `changes-requested`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::ChangesRequested => "changes-requested",
        }
    }

    /// Parses the file spelling.
    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "approved" => Some(Decision::Approved),
            "changes-requested" => Some(Decision::ChangesRequested),
            _ => None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Decision::Approved => "approved",
            Decision::ChangesRequested => "changes requested",
        })
    }
}

/// The `[review]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The report's id (`LAB-2026-0142`), printed on every page.
    pub report_id: String,
    /// The report's revision, from 1.
    pub revision: u32,
    /// Who performed the assessment.
    pub assessor: String,
    /// Who reviewed it.
    pub reviewer: Option<String>,
    /// The decision, once made.
    pub decision: Option<Decision>,
    /// When it was made.
    pub date: Option<Date>,
    /// SHA-256 of the assessment file without its `[review]` table, recorded on approval.
    pub content_sha256: Option<String>,
    /// SHA-256 of every scan and evidence file, by path, recorded on approval.
    pub inputs: BTreeMap<String, String>,
    /// The line of the table in the assessment file.
    pub line: Option<u32>,
}

impl Review {
    /// Whether the review approves.
    pub fn approved(&self) -> bool {
        self.decision == Some(Decision::Approved)
    }
}

/// The assessment text without its `[review]` table (and the tables nested in it), the
/// part of the file an approval covers. Lines are compared, so the cut is the same
/// wherever the text is made: from a `[review]` or `[review.…]` header to the next
/// header of another table.
pub fn content_without_review(source: &str) -> String {
    let mut kept = String::with_capacity(source.len());
    let mut in_review = false;
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            let header = trimmed
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            in_review = header == "review" || header.starts_with("review.");
        }
        if !in_review {
            kept.push_str(line);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_review_table_and_its_subtables_are_cut_out() {
        let source = "edition = \"x\"\n\n[review]\nreport_id = \"R-1\"\n\n[review.inputs]\n\"scans/a.json\" = \"ab\"\n\n[[scan]]\nfile = \"scans/a.json\"\n";
        assert_eq!(
            content_without_review(source),
            "edition = \"x\"\n\n[[scan]]\nfile = \"scans/a.json\"\n"
        );
        // A table whose name only starts like it stays.
        let source = "[reviewers]\na = 1\n";
        assert_eq!(content_without_review(source), source);
    }
}
