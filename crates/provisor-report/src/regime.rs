//! Regulatory regimes in reports: the section every report has for each regime that can
//! read the assessment (the UK PSTI view), the terminal table of `provisor check
//! --regime`, and the draft statement of compliance of `provisor report --format
//! psti-statement`.

use std::fmt::Write;

use provisor_engine::{Assessment, RegimeView, RequirementStatus};
use serde::{Deserialize, Serialize};

use crate::Context;
use crate::text::{html_escape as e, markdown_cell};

/// One regime in the assessment document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimeDocument {
    /// The regime's id (`uk-psti`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The law and its citation.
    pub legislation: String,
    /// Whether every requirement is met.
    pub met: bool,
    /// Why the view is only indicative, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicative: Option<String>,
    /// Each requirement.
    pub requirements: Vec<RequirementDocument>,
}

/// One requirement in the assessment document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementDocument {
    /// Its id (`passwords`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// met, not-met or open.
    pub status: String,
    /// Where the law sets it and deems it met.
    pub source: String,
    /// The provisions that meet it, with their verdicts (`5.1-1: pass`).
    pub provisions: Vec<String>,
}

/// The regime views of the document.
pub(crate) fn documents(assessment: &Assessment<'_>) -> Vec<RegimeDocument> {
    provisor_engine::regime_views(assessment)
        .iter()
        .map(|view| RegimeDocument {
            id: view.regime.id.clone(),
            title: view.regime.title.clone(),
            legislation: format!("{} ({})", view.regime.legislation, view.regime.citation),
            met: view.met(),
            indicative: view.caveat(),
            requirements: view
                .requirements
                .iter()
                .map(|requirement| RequirementDocument {
                    id: requirement.requirement.id.clone(),
                    title: requirement.requirement.title.clone(),
                    status: requirement.status.as_str().to_owned(),
                    source: format!(
                        "{}; deemed met: {}",
                        requirement.requirement.source, requirement.requirement.deemed
                    ),
                    provisions: bearings(requirement),
                })
                .collect(),
        })
        .collect()
}

/// The provisions of a requirement with their verdicts: `5.1-1: PASS`, `5.6-4A (cites
/// 5.6-4): FAIL`.
fn bearings(view: &provisor_engine::RequirementView<'_>) -> Vec<String> {
    if view.bearings.is_empty() {
        return vec!["no provision of this edition continues the cited ones".into()];
    }
    view.bearings
        .iter()
        .map(|bearing| match &bearing.cited {
            Some(cited) => format!(
                "{} (for {cited}): {}",
                bearing.provision,
                bearing.verdict.label()
            ),
            None => format!("{}: {}", bearing.provision, bearing.verdict.label()),
        })
        .collect()
}

fn overall(view: &RegimeView<'_>) -> &'static str {
    if view.met() {
        "every requirement is met"
    } else if view
        .requirements
        .iter()
        .any(|r| r.status == RequirementStatus::NotMet)
    {
        "a requirement is not met"
    } else {
        "a requirement is still open"
    }
}

/// The terminal table of `provisor check --regime`.
pub fn regime_table(view: &RegimeView<'_>) -> String {
    let mut out = String::new();
    let regime = view.regime;
    let _ = writeln!(
        out,
        "\n{} ({}, {}): {}",
        regime.title,
        regime.citation,
        regime.url,
        overall(view)
    );
    if let Some(caveat) = view.caveat() {
        let _ = writeln!(out, "  {caveat}");
    }
    for requirement in &view.requirements {
        let _ = writeln!(
            out,
            "  {:<8} {} ({}; deemed met by {})",
            requirement.status.label(),
            requirement.requirement.title,
            requirement.requirement.source,
            requirement.requirement.deemed
        );
        let _ = writeln!(out, "           {}", bearings(requirement).join(", "));
        if let Some(alternative) = &requirement.requirement.alternative {
            let _ = writeln!(out, "           or: {alternative}");
        }
    }
    out
}

/// The regime sections of a Markdown report.
pub(crate) fn markdown_sections(assessment: &Assessment<'_>, out: &mut String) {
    for view in provisor_engine::regime_views(assessment) {
        let regime = view.regime;
        let _ = writeln!(out, "\n## {}\n", regime.title);
        let _ = writeln!(
            out,
            "{} ({}), in force {}: {}.\n",
            regime.legislation,
            regime.citation,
            regime.in_force,
            overall(&view)
        );
        if let Some(caveat) = view.caveat() {
            let _ = writeln!(out, "> {caveat}\n");
        }
        let _ = writeln!(
            out,
            "| Requirement | Set by | Deemed met by | Provisions | Status |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for requirement in &view.requirements {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | **{}** |",
                markdown_cell(&requirement.requirement.title),
                markdown_cell(&requirement.requirement.source),
                markdown_cell(&requirement.requirement.deemed),
                markdown_cell(&bearings(requirement).join(", ")),
                requirement.status.label()
            );
        }
    }
}

/// The regime sections of an HTML report.
pub(crate) fn html_sections(assessment: &Assessment<'_>, out: &mut String) {
    for view in provisor_engine::regime_views(assessment) {
        let regime = view.regime;
        let _ = write!(
            out,
            "<h2>{}</h2><p><a href=\"{}\">{}</a> ({}), in force {}: <strong>{}</strong>.</p>",
            e(&regime.title),
            e(&regime.url),
            e(&regime.legislation),
            e(&regime.citation),
            e(&regime.in_force),
            overall(&view)
        );
        if let Some(caveat) = view.caveat() {
            let _ = write!(out, "<p class=\"small muted\">{}</p>", e(&caveat));
        }
        out.push_str("<table><thead><tr><th>Requirement</th><th>Set by</th><th>Deemed met by</th><th>Provisions</th><th>Status</th></tr></thead><tbody>");
        for requirement in &view.requirements {
            let class = match requirement.status {
                RequirementStatus::Met => "v-pass",
                RequirementStatus::NotMet => "v-fail",
                RequirementStatus::Open => "v-open",
            };
            let _ = write!(
                out,
                "<tr><td>{}<div class=\"small muted\">{}</div></td><td class=\"small\">{}</td><td class=\"small\">{}</td><td class=\"small\">{}</td><td><span class=\"badge {class}\">{}</span></td></tr>",
                e(&requirement.requirement.title),
                e(&requirement.requirement.summary),
                e(&requirement.requirement.source),
                e(&requirement.requirement.deemed),
                e(&bearings(requirement).join(", ")),
                requirement.status.label()
            );
        }
        out.push_str("</tbody></table>");
    }
}

/// The regime sections of the PDF's data.
pub(crate) fn pdf_data(assessment: &Assessment<'_>) -> serde_json::Value {
    serde_json::Value::Array(
        provisor_engine::regime_views(assessment)
            .iter()
            .map(|view| {
                serde_json::json!({
                    "title": view.regime.title,
                    "legislation": format!("{} ({}), in force {}", view.regime.legislation, view.regime.citation, view.regime.in_force),
                    "overall": overall(view),
                    "caveat": view.caveat(),
                    "requirements": view.requirements.iter().map(|requirement| serde_json::json!({
                        "title": requirement.requirement.title,
                        "source": requirement.requirement.source,
                        "deemed": requirement.requirement.deemed,
                        "provisions": bearings(requirement).join(", "),
                        "status": requirement.status.label(),
                        "class": match requirement.status {
                            RequirementStatus::Met => "pass",
                            RequirementStatus::NotMet => "fail",
                            RequirementStatus::Open => "open",
                        },
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// Why a statement of compliance cannot be drafted.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// No embedded regime of that id prescribes a statement, or it cannot read the
    /// assessment's edition.
    #[error("{0}")]
    Unavailable(String),
}

/// A draft of the statement of compliance the UK PSTI regulations require the
/// manufacturer to supply with the product: the content regulation 6 and Schedule 4
/// prescribe, filled from the assessment, with what it cannot know left as marked
/// blanks.
pub fn psti_statement(
    assessment: &Assessment<'_>,
    context: &Context,
) -> Result<String, StatementError> {
    let regime = provisor_catalog::regime("uk-psti")
        .ok_or_else(|| StatementError::Unavailable("the UK PSTI regime is not embedded".into()))?;
    let view = provisor_engine::regime_view(assessment, regime).ok_or_else(|| {
        StatementError::Unavailable(format!(
            "the UK PSTI regulations cite {}; an assessment of {} cannot be read against them",
            regime.edition, assessment.catalog.id
        ))
    })?;
    let device = &assessment.device;
    let blank = |what: &str| format!("[to fill in: {what}]");
    let filled = |value: &Option<String>, what: &str| value.clone().unwrap_or_else(|| blank(what));
    let mut out = String::new();
    let _ = writeln!(out, "# Statement of compliance\n");
    let _ = writeln!(
        out,
        "**Draft** written by provisor {} on {} from `{}`. It follows the minimum content of {} of {} ({}). Check every entry, complete the marked blanks, and have it signed.\n",
        context.tool_version,
        context.generated_at,
        context.source,
        regime
            .statement
            .as_ref()
            .map_or("the regulations", |statement| statement.source.as_str()),
        regime.legislation,
        regime.citation
    );
    if !view.met() {
        let open: Vec<String> = view
            .requirements
            .iter()
            .filter(|r| r.status != RequirementStatus::Met)
            .map(|r| format!("{} ({})", r.requirement.title, r.status.label()))
            .collect();
        let _ = writeln!(
            out,
            "> **Not ready to sign:** the assessment does not show every requirement met: {}. Resolve them first (`provisor check {} --regime uk-psti`).\n",
            open.join("; "),
            context.source
        );
    }
    if let Some(caveat) = view.caveat() {
        let _ = writeln!(out, "> **Note:** the view below is {caveat}.\n");
    }
    let product = [
        &device.manufacturer,
        &device.model,
        &device.hardware_version,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect::<Vec<_>>()
    .join(" ");
    let _ = writeln!(out, "## 1. Product type and batch\n");
    let _ = writeln!(
        out,
        "- Product type: {}",
        if product.is_empty() {
            blank("manufacturer, model and hardware version")
        } else {
            product
        }
    );
    if let Some(firmware) = &device.firmware_version {
        let _ = writeln!(out, "- Software version assessed: {firmware}");
    }
    let _ = writeln!(
        out,
        "- Batch: {}\n",
        device.batch.clone().unwrap_or_else(|| blank(
            "the batch, serial range or production period ([device] batch)"
        ))
    );
    let _ = writeln!(out, "## 2. Manufacturer\n");
    let _ = writeln!(
        out,
        "- Name: {}",
        filled(&device.manufacturer, "the manufacturer's name")
    );
    let _ = writeln!(
        out,
        "- Address: {}",
        filled(
            &device.manufacturer_address,
            "the manufacturer's address ([device] manufacturer_address)"
        )
    );
    let _ = writeln!(
        out,
        "- Authorised representative: {}\n",
        blank("name and address, if any")
    );
    let _ = writeln!(out, "## 3. Declaration of preparation\n");
    let _ = writeln!(
        out,
        "This statement of compliance has been prepared by, or on behalf of, {}.\n",
        device.manufacturer.as_deref().unwrap_or("the manufacturer")
    );
    let _ = writeln!(out, "## 4. Declaration of compliance\n");
    let _ = writeln!(
        out,
        "In the opinion of the manufacturer, {} has complied with the security requirements of Schedule 1 of the regulations that apply to the product:\n",
        device.manufacturer.as_deref().unwrap_or("the manufacturer")
    );
    let _ = writeln!(out, "| Requirement | Met by | Assessment |");
    let _ = writeln!(out, "|---|---|---|");
    for requirement in &view.requirements {
        let _ = writeln!(
            out,
            "| {} ({}) | {} of ETSI EN 303 645 V2.1.1 ({}) | {}: {} |",
            markdown_cell(&requirement.requirement.title),
            markdown_cell(&requirement.requirement.source),
            requirement.requirement.provisions.join(" and "),
            markdown_cell(&requirement.requirement.deemed),
            requirement.status.label(),
            markdown_cell(&bearings(requirement).join(", "))
        );
    }
    let _ = writeln!(out, "\n## 5. Defined support period\n");
    match &device.support_period_end {
        Some(end) => {
            let product = device
                .model
                .as_deref()
                .map_or_else(|| "the product".to_owned(), |model| format!("the {model}"));
            let _ = writeln!(
                out,
                "Security updates will be provided for {product} until at least **{end}**.\n"
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{}\n",
                blank(
                    "the end date of the defined support period ([device] support_period_end = 2030-12-31)"
                )
            );
        }
    }
    let _ = writeln!(out, "## 6. Signature\n");
    let _ = writeln!(
        out,
        "- Signed for and on behalf of: {}",
        filled(&device.manufacturer, "the manufacturer")
    );
    let _ = writeln!(out, "- Name: {}", blank("signatory"));
    let _ = writeln!(out, "- Function: {}", blank("signatory's function"));
    let _ = writeln!(out, "- Place of issue: {}", blank("place"));
    let _ = writeln!(out, "- Date of issue: {}", blank("date"));
    let _ = writeln!(out, "- Signature: {}", blank("signature"));
    Ok(out)
}
