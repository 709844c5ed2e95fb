//! Every output format of provisor, each a function of a `&Assessment` (or a catalog, or
//! a diff) and a [`Context`]: the `provisor.assessment/2` JSON, Markdown, the HTML lab
//! report, SARIF 2.1.0, the Annex B ICS as CSV, and the terminal table of `check`.
//! Output types are separate from engine types so the JSON schemas stay stable public
//! contracts.

mod catalog;
mod diff;
mod document;
mod findings;
mod hardening;
mod html;
mod ics_csv;
mod junit;
mod lab;
mod markdown;
mod migrated;
mod oscal;
mod pdf;
mod plan;
mod regime;
mod review;
mod sarif;
mod table;
mod template;
mod text;
mod triage;

pub use catalog::{catalog_json, catalog_markdown, catalog_table, provision_detail};
pub use diff::{diff_json, diff_text};
pub use document::{
    ASSESSMENT_SCHEMA, ASSESSMENT_SCHEMA_V1, AssessmentDocument, CountsDocument, ProvisionDocument,
    SummaryDocument, document, verdicts_of_document,
};
pub use findings::{container_tree, findings_json, findings_sarif, findings_text, sbom_cyclonedx};
pub use html::html;
pub use ics_csv::ics_csv;
pub use junit::junit;
pub use markdown::markdown;
pub use migrated::{migrated_assessment, migration_report};
pub use oscal::{OSCAL_VERSION, oscal_ap, oscal_ar, oscal_ssp};
pub use pdf::{PdfError, pdf};
pub use plan::{PLAN_SCHEMA, plan_csv, plan_json, plan_markdown, plan_table};
pub use regime::{
    RegimeDocument, RequirementDocument, StatementError, psti_statement, regime_table,
};
pub use review::{ReviewRequest, apply_review, review_table};
pub use sarif::sarif;
pub use table::check_table;
pub use template::assessment_template;
pub use text::decision_words;
pub use triage::{acceptance_entry, triage_stubs, triage_table};

/// What a report says about its own making.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// provisor's version.
    pub tool_version: String,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    /// The assessment file as the user named it, for locations in SARIF.
    pub source: String,
}

/// The JSON of an assessment (`provisor.assessment/2`), pretty-printed.
pub fn json(assessment: &provisor_engine::Assessment<'_>, context: &Context) -> String {
    crate::text::pretty_json(&document(assessment, context))
}
