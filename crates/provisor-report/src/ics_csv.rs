//! The Implementation Conformance Statement as CSV, in the layout of EN 303 645 Annex B
//! Table B.1: a row per clause, then a row per provision with its published status,
//! the support (Y, N, N/A) and the detail.

use provisor_engine::{Assessment, Support, Verdict};

use crate::text::csv_field;

/// Renders the ICS CSV.
pub fn ics_csv(assessment: &Assessment<'_>) -> String {
    let mut out = String::from("Clause number and title,Status,Support,Detail\r\n");
    for category in &assessment.catalog.categories {
        out.push_str(&csv_field(&format!("{} {}", category.id, category.title)));
        out.push_str(",,,\r\n");
        for result in assessment
            .provisions
            .iter()
            .filter(|result| result.provision.category == category.id)
        {
            let provision = result.provision;
            // Table B.1 has no row for 4-1; the model's status stands in.
            let status = provision
                .table_b1
                .clone()
                .unwrap_or_else(|| provision.status_label());
            let (support, detail) = match (&result.statement, result.verdict) {
                (_, Verdict::NotApplicable) => (
                    "N/A",
                    result
                        .statement
                        .as_ref()
                        .filter(|statement| statement.is_justified())
                        .map_or_else(|| result.reasons.join("; "), crate::text::statement_detail),
                ),
                (Some(statement), _) => (
                    statement.support.ics(),
                    crate::text::statement_detail(statement),
                ),
                (None, _) if provision.derived.is_some() => (
                    match result.verdict {
                        Verdict::Pass => Support::Yes.ics(),
                        Verdict::Fail => Support::No.ics(),
                        _ => "",
                    },
                    result.reasons.join("; "),
                ),
                (None, _) => ("", String::new()),
            };
            out.push_str(&format!(
                "{},{},{},{}\r\n",
                csv_field(&format!("Provision {}", provision.id)),
                csv_field(&status),
                support,
                csv_field(&detail)
            ));
        }
    }
    out
}
