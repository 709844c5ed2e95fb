//! The HTML report: one self-contained file (inline CSS and SVG, no external assets)
//! that reads like a lab report on screen and on paper: identification, the decision,
//! a summary chart, mandatory failures first, every provision by category with its
//! applicability, statement, verdict, findings and reasons, the condition answers and an
//! evidence register with SHA-256 digests.

use std::fmt::Write;

use provisor_engine::{Assessment, ProvisionResult, StatusSummary, Verdict};

use crate::Context;
use crate::document::conflict_text;
use crate::text::{
    answer_words, applicability_words, device_line, headline, html_escape as e, identification,
};

const STYLE: &str = r#"
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--open:#9a6700;--nf:#8250df;--na:#6e7781;--accent:#0b3d91}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
main{max-width:1120px;margin:0 auto;padding:32px 40px 64px}
header.title{border-bottom:3px solid var(--accent);padding-bottom:16px;margin-bottom:24px}
header.title .kicker{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--accent);font-weight:600}
h1{font-size:28px;margin:4px 0 2px}
h2{font-size:20px;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:28px 0 8px;color:var(--accent)}
.subtitle{color:var(--muted);margin:0}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;font-size:13px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.meta th{width:220px}
.grid{display:grid;grid-template-columns:minmax(260px,1fr) 2fr;gap:24px;align-items:start}
.decision{border-radius:8px;padding:18px 20px;color:#fff}
.decision.yes{background:var(--pass)}.decision.no{background:var(--fail)}
.decision .word{font-size:24px;font-weight:700;letter-spacing:.02em}
.decision p{margin:6px 0 0}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;color:#fff;white-space:nowrap}
.v-pass{background:var(--pass)}.v-fail{background:var(--fail)}.v-open{background:var(--open)}.v-not-fulfilled{background:var(--nf)}.v-not-applicable{background:var(--na)}
.status{font-weight:700}
.muted{color:var(--muted)}
.small{font-size:12px}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.nowrap{white-space:nowrap;word-break:normal}
ul.reasons{margin:0;padding-left:18px}
.finding{margin:4px 0;padding:4px 8px;border-left:3px solid var(--line);background:var(--soft)}
.finding.fail{border-color:var(--fail)}.finding.pass{border-color:var(--pass)}
.contradiction{color:var(--fail);font-weight:600}
.finding.is-accepted{border-color:var(--na);opacity:.85}
.accepted{color:var(--muted);font-style:italic}
ul.tests{margin:6px 0 0;padding-left:0;list-style:none;font-size:12px}
ul.tests li{margin:2px 0;padding-left:8px;border-left:3px solid var(--line)}
ul.tests li.pass{border-color:var(--pass)}ul.tests li.fail{border-color:var(--fail)}
ul.tests li.proposed-pass,ul.tests li.proposed-fail,ul.tests li.disputed{border-color:var(--nf)}
ul.tests li.not-run,ul.tests li.inconclusive{border-color:var(--open)}
table.counts{width:auto}
.failures li{margin-bottom:6px}
ol.rule li{margin-bottom:4px}
.text{color:var(--muted);font-size:12px;margin-top:4px}
.source{font-style:italic;white-space:nowrap}
footer{margin-top:48px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:12px}
@media print{
  @page{size:A4;margin:16mm 14mm}
  body{font-size:10pt}
  main{max-width:none;padding:0}
  .grid{display:block}
  .grid>*{margin-bottom:12px}
  table{font-size:9pt}
  .text{font-size:8pt}
  h2,h3{break-after:avoid}
  tr,.finding,.decision{break-inside:avoid}
  .badge,.decision,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

fn badge(verdict: Verdict) -> String {
    format!(
        "<span class=\"badge v-{}\">{}</span>",
        verdict.as_str(),
        verdict.label()
    )
}

const ORDER: [Verdict; 5] = [
    Verdict::Pass,
    Verdict::NotFulfilled,
    Verdict::NotApplicable,
    Verdict::Open,
    Verdict::Fail,
];

fn color(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "#1a7f37",
        Verdict::Fail => "#cf222e",
        Verdict::Open => "#9a6700",
        Verdict::NotFulfilled => "#8250df",
        Verdict::NotApplicable => "#6e7781",
    }
}

/// Two stacked bars (mandatory, recommended) with a legend, as inline SVG.
fn chart(mandatory: &StatusSummary, recommended: &StatusSummary) -> String {
    let width = 560.0;
    let left = 132.0;
    let bar = width - left - 10.0;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"verdicts by status\" viewBox=\"0 0 {width} 130\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (row, (label, counts)) in [("Mandatory", mandatory), ("Recommended", recommended)]
        .into_iter()
        .enumerate()
    {
        let y = 10.0 + row as f64 * 38.0;
        let total = counts.total().max(1) as f64;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" fill=\"#1f2328\" font-weight=\"600\">{label} ({})</text>",
            y + 17.0,
            counts.total()
        );
        let mut x = left;
        for verdict in ORDER {
            let count = counts.of(verdict);
            if count == 0 {
                continue;
            }
            let w = bar * count as f64 / total;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"26\" fill=\"{}\"><title>{}: {count}</title></rect>",
                color(verdict),
                verdict.label()
            );
            if w >= 18.0 {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{}\" fill=\"#fff\" text-anchor=\"middle\" font-weight=\"700\">{count}</text>",
                    x + w / 2.0,
                    y + 17.0
                );
            }
            x += w;
        }
    }
    let mut x = 0.0;
    for verdict in ORDER {
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"100\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"110\" fill=\"#1f2328\">{}</text>",
            color(verdict),
            x + 16.0,
            verdict.label()
        );
        x += 16.0 + verdict.label().len() as f64 * 7.4 + 14.0;
    }
    svg.push_str("</svg>");
    svg
}

/// Why a provision fails: the reasons, and the statement's detail when it has one.
fn failure_words(result: &ProvisionResult<'_>) -> String {
    let mut words = result.reasons.join("; ");
    if let Some(statement) = result.statement.as_ref().filter(|s| s.is_justified()) {
        words.push_str(&format!(" — statement: {}", statement.detail));
    }
    words
}

fn statement_cell(result: &ProvisionResult<'_>) -> String {
    match &result.statement {
        Some(statement) => {
            let mut cell = format!("<span class=\"status\">{}</span>", statement.support);
            let detail = crate::text::statement_detail(statement);
            if !detail.is_empty() {
                let _ = write!(cell, "<div>{}</div>", e(&detail));
            }
            for evidence in &statement.evidence {
                let _ = write!(
                    cell,
                    "<div class=\"small muted\">evidence: <span class=\"mono\">{}</span></div>",
                    e(evidence)
                );
            }
            cell
        }
        None if result.provision.derived.is_some() => "<span class=\"muted\">derived</span>".into(),
        None => "<span class=\"muted\">no statement</span>".into(),
    }
}

fn provision_row(out: &mut String, assessment: &Assessment<'_>, result: &ProvisionResult<'_>) {
    let provision = result.provision;
    let mut verdict = badge(result.verdict);
    if result.contradiction {
        verdict.push_str("<div class=\"contradiction small\">contradiction</div>");
    }
    let mut reasons = String::from("<ul class=\"reasons\">");
    for reason in &result.reasons {
        let _ = write!(reasons, "<li>{}</li>", e(reason));
    }
    reasons.push_str("</ul>");
    if !result.tests.is_empty() && result.applicability == provisor_engine::Applicability::Applies {
        reasons.push_str("<ul class=\"tests\">");
        for test in &result.tests {
            let _ = write!(
                reasons,
                "<li class=\"test {}\">{}",
                test.state.as_str(),
                e(&crate::lab::test_line(assessment, test))
            );
            if let Some(method) = crate::lab::test_method(test) {
                let _ = write!(reasons, "<div class=\"small muted\">{}</div>", e(method));
            }
            reasons.push_str("</li>");
        }
        reasons.push_str("</ul>");
    }
    for &index in &result.findings {
        let finding = &assessment.findings[index];
        let accepted = assessment
            .acceptance_of(index)
            .filter(|_| finding.outcome == provisor_engine::Outcome::Fail)
            .map(|state| {
                format!(
                    "<div class=\"small accepted\">accepted as {} by {}: {}</div>",
                    state.acceptance.kind.label(),
                    e(&state.acceptance.by),
                    e(&state.acceptance.reason)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            reasons,
            "<div class=\"finding {}{}\"><strong>{}</strong> <span class=\"small\">{} · {} · <code>{}</code></span><div class=\"small mono\">{}</div>{accepted}</div>",
            finding.outcome.as_str(),
            if accepted.is_empty() {
                ""
            } else {
                " is-accepted"
            },
            e(&finding.title),
            finding.outcome,
            finding.severity.as_str(),
            e(&finding.check),
            e(&finding.location.to_string())
        );
    }
    let _ = write!(
        out,
        "<tr id=\"p-{id}\"><td><strong>{id}</strong><div class=\"text\">{text}</div></td><td>{status}</td><td class=\"small\">{applicability}</td><td>{statement}</td><td>{verdict}</td><td>{reasons}</td></tr>",
        id = e(&provision.id),
        text = provision_text(assessment, provision),
        status = e(&provision.status_label()),
        applicability = e(&applicability_words(result)),
        statement = statement_cell(result),
    );
}

/// A provision's text, its source marked where it is not the standard's sentence.
fn provision_text(assessment: &Assessment<'_>, provision: &provisor_catalog::Provision) -> String {
    let (text, source) = assessment.text_of(provision);
    match source.marker() {
        Some(marker) => format!(
            "<span class=\"source\" title=\"{marker}\">{}</span> {}",
            e(source.label().unwrap_or_default()),
            e(text)
        ),
        None => e(text),
    }
}

/// Renders the HTML report.
pub fn html(assessment: &Assessment<'_>, context: &Context) -> String {
    let catalog = assessment.catalog;
    let device = &assessment.device;
    let summary = &assessment.summary;
    let mut out = String::with_capacity(256 * 1024);
    let title = format!(
        "{} — {} assessment",
        device_line(device),
        catalog.short_title
    );
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>",
        e(&title)
    );
    let _ = write!(
        out,
        "<header class=\"title\"><div class=\"kicker\">Conformance assessment report</div><h1>{}</h1><p class=\"subtitle\">{}</p></header>",
        e(&device_line(device)),
        e(&catalog.title)
    );

    // Identification and decision.
    out.push_str("<div class=\"grid\">");
    let (class, word) = if assessment.conformant {
        ("yes", "CONFORMANT")
    } else {
        ("no", "NOT CONFORMANT")
    };
    let words = crate::text::decision_words(
        assessment.conformant,
        summary.mandatory.fail,
        (summary.mandatory.open, summary.recommended.open),
    );
    let _ = write!(
        out,
        "<section class=\"decision {class}\"><div class=\"word\">{word}</div><p>{}</p></section>",
        e(&words)
    );
    out.push_str("<table class=\"meta\"><tbody>");
    for (label, value) in identification(assessment, context) {
        let class = if label.contains("SHA") {
            " class=\"mono\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr><th>{label}</th><td{class}>{}</td></tr>",
            e(&value)
        );
    }
    out.push_str("</tbody></table></div>");

    // Summary.
    out.push_str("<h2>Summary</h2><div class=\"grid\"><div>");
    out.push_str("<table><thead><tr><th>Verdict</th><th class=\"num\">Mandatory</th><th class=\"num\">Recommended</th></tr></thead><tbody>");
    for verdict in ORDER {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            badge(verdict),
            summary.mandatory.of(verdict),
            summary.recommended.of(verdict)
        );
    }
    let _ = write!(
        out,
        "<tr><th>Total</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></tbody></table></div><div>{}</div></div>",
        summary.mandatory.total(),
        summary.recommended.total(),
        chart(&summary.mandatory, &summary.recommended)
    );

    if assessment.kind == provisor_engine::Kind::Lab {
        out.push_str("<h3>Test cases (ETSI TS 103 701)</h3><table class=\"counts\"><tbody>");
        for (label, count) in crate::lab::test_counts(assessment) {
            let _ = write!(
                out,
                "<tr><td>{label}</td><td class=\"num\">{count}</td></tr>"
            );
        }
        out.push_str("</tbody></table>");
    }

    // Mandatory failures first, then what is open.
    let failures: Vec<&ProvisionResult<'_>> = assessment
        .provisions
        .iter()
        .filter(|result| result.provision.is_mandatory() && result.verdict == Verdict::Fail)
        .collect();
    if !failures.is_empty() {
        out.push_str("<h2>Mandatory failures</h2><ul class=\"failures\">");
        for result in failures {
            let _ = write!(
                out,
                "<li><a href=\"#p-{id}\"><strong>{id}</strong></a> {badge} {}<div class=\"small muted\">{}</div></li>",
                e(&headline(&assessment.shown_text(result.provision), 140)),
                e(&failure_words(result)),
                id = e(&result.provision.id),
                badge = badge(Verdict::Fail),
            );
        }
        out.push_str("</ul>");
    }
    let open: Vec<&ProvisionResult<'_>> = assessment
        .provisions
        .iter()
        .filter(|result| result.verdict == Verdict::Open)
        .collect();
    if !open.is_empty() {
        out.push_str("<h2>Open items</h2><ul class=\"failures\">");
        for result in open {
            let left = crate::lab::left_to_do(result);
            let _ = write!(
                out,
                "<li><a href=\"#p-{id}\"><strong>{id}</strong></a> {}</li>",
                e(&left.join("; ")),
                id = e(&result.provision.id),
            );
        }
        out.push_str("</ul>");
    }

    crate::regime::html_sections(assessment, &mut out);

    out.push_str("<h2>Decision rule</h2><ol class=\"rule\">");
    for rule in crate::lab::rules(assessment) {
        let _ = write!(out, "<li>{}</li>", e(&rule));
    }
    out.push_str("</ol>");

    // Provisions by category.
    out.push_str("<h2>Provisions</h2>");
    for category in &catalog.categories {
        let _ = write!(
            out,
            "<h3>{} {}</h3><table><thead><tr><th style=\"width:24%\">Provision</th><th>Status</th><th style=\"width:12%\">Applicability</th><th style=\"width:22%\">Statement</th><th>Verdict</th><th style=\"width:26%\">Reasons and findings</th></tr></thead><tbody>",
            e(&category.id),
            e(&category.title)
        );
        for result in assessment
            .provisions
            .iter()
            .filter(|result| result.provision.category == category.id)
        {
            provision_row(&mut out, assessment, result);
        }
        out.push_str("</tbody></table>");
    }

    // Conditions.
    out.push_str("<h2>Conditions</h2><table><thead><tr><th>#</th><th>Condition</th><th>Answer</th><th>Source</th></tr></thead><tbody>");
    for state in &assessment.conditions {
        let (answer, source) = answer_words(state);
        let _ = write!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}<div class=\"text\">{}</div></td><td><strong>{answer}</strong></td><td class=\"small\">{}</td></tr>",
            state.condition.id,
            e(&state.condition.text),
            e(&state.condition.question),
            e(&source)
        );
    }
    out.push_str("</tbody></table>");
    for conflict in &assessment.condition_conflicts {
        let _ = write!(
            out,
            "<p class=\"contradiction\">Warning: {}</p>",
            e(&conflict_text(conflict))
        );
    }

    // IXIT entries and gaps.
    let gaps = crate::lab::ixit_gaps(assessment);
    if crate::lab::shows_ixit(assessment) {
        out.push_str("<h2>Implementation extra information for testing (IXIT)</h2>");
        if assessment.ixit.is_empty() {
            out.push_str("<p class=\"muted\">No IXIT entries are recorded.</p>");
        } else {
            out.push_str(
                "<table><thead><tr><th>Table</th><th>Entry</th><th>Fields</th></tr></thead><tbody>",
            );
            for entry in &assessment.ixit {
                let fields: Vec<String> = entry
                    .fields
                    .iter()
                    .filter(|(name, _)| name.as_str() != "id")
                    .map(|(name, value)| format!("<b>{}</b>: {}", e(name), e(&value.to_string())))
                    .collect();
                let _ = write!(
                    out,
                    "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
                    e(&entry.table),
                    e(&entry.name()),
                    fields.join("<br>")
                );
            }
            out.push_str("</tbody></table>");
        }
        if !gaps.is_empty() {
            out.push_str("<h3>IXIT tables without an entry</h3><ul>");
            for (table, provisions) in &gaps {
                let table_title = assessment
                    .catalog
                    .ixit_table(table)
                    .map_or(String::new(), |table| format!(" ({})", table.title));
                let _ = write!(
                    out,
                    "<li><span class=\"mono\">{}</span>{}: needed by {}</li>",
                    e(table),
                    e(&table_title),
                    e(&provisions.join(", "))
                );
            }
            out.push_str("</ul>");
        }
    }

    // Acceptances of triage.
    if !assessment.acceptances.is_empty() {
        out.push_str("<h2>Accepted findings</h2><table><thead><tr><th>Covers</th><th>Kind</th><th>Reason</th><th>By</th><th>Until</th><th>Findings</th></tr></thead><tbody>");
        for state in &assessment.acceptances {
            let acceptance = &state.acceptance;
            let _ = write!(
                out,
                "<tr><td class=\"small mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
                e(&acceptance.selector.to_string()),
                acceptance.kind.label(),
                e(&acceptance.reason),
                e(&acceptance.by),
                e(&crate::lab::until_words(state)),
                e(&state
                    .findings
                    .iter()
                    .map(|&index| assessment.findings[index].title.as_str())
                    .collect::<Vec<_>>()
                    .join("; "))
            );
        }
        out.push_str("</tbody></table>");
    }

    // Findings.
    if !assessment.findings.is_empty() {
        out.push_str("<h2>Findings</h2><table><thead><tr><th>Outcome</th><th>Severity</th><th>Check</th><th>Title</th><th>Location</th><th>Provisions</th></tr></thead><tbody>");
        for finding in &assessment.findings {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                finding.outcome,
                finding.severity.as_str(),
                e(&finding.check),
                e(&finding.title),
                e(&finding.location.to_string()),
                e(&finding.provisions.join(", "))
            );
        }
        out.push_str("</tbody></table>");
    }

    // Components found by the scans (the SBOM).
    if !assessment.components.is_empty() {
        out.push_str("<h2>Components</h2><table><thead><tr><th>Component</th><th>Version</th><th>Package URL and CPE</th><th>Found in</th></tr></thead><tbody>");
        for component in &assessment.components {
            let cpe = component
                .cpe
                .as_deref()
                .map(|cpe| format!("<div class=\"small muted\">{}</div>", e(cpe)))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}{cpe}</td><td class=\"mono small\">{}</td></tr>",
                e(&component.name),
                e(component.version.as_deref().unwrap_or("")),
                e(component.purl.as_deref().unwrap_or("")),
                e(&component.locations.join(", "))
            );
        }
        out.push_str("</tbody></table>");
    }

    // Exploit mitigations of the image's binaries.
    if let Some(summary) = crate::hardening::hardening(&assessment.findings) {
        let _ = write!(
            out,
            "<h2>Exploit mitigations</h2><p class=\"small muted\">{} ELF binaries of the firmware image (5.6-8, 5.6-9)</p><table><thead><tr><th>Mitigation</th><th>Binaries that have it</th></tr></thead><tbody>",
            summary.binaries
        );
        for row in &summary.rows {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{} of {}</td></tr>",
                e(row.name),
                row.have,
                row.of
            );
        }
        out.push_str("</tbody></table>");
        if !summary.weakest.is_empty() {
            out.push_str("<p class=\"small\">Least hardened: ");
            let named: Vec<String> = summary
                .weakest
                .iter()
                .map(|(path, missing)| {
                    format!(
                        "<span class=\"mono\">{}</span> (lacks {})",
                        e(path),
                        e(&missing.join(", "))
                    )
                })
                .collect();
            out.push_str(&named.join("; "));
            out.push_str("</p>");
        }
    }

    // Evidence register.
    out.push_str("<h2>Evidence register</h2>");
    if assessment.evidence.is_empty() && assessment.scans.is_empty() {
        out.push_str("<p class=\"muted\">No evidence files are referenced.</p>");
    } else {
        out.push_str("<table><thead><tr><th>No.</th><th>Evidence</th><th>SHA-256</th><th class=\"num\">Size</th><th>Cited by</th></tr></thead><tbody>");
        for (position, scan) in assessment.scans.iter().enumerate() {
            let _ = write!(
                out,
                "<tr><td class=\"mono nowrap\">{}</td><td>scan <span class=\"mono\">{}</span><div class=\"small muted\">{} of {}, {} findings</div></td><td class=\"mono\">{}</td><td></td><td>all provisions</td></tr>",
                crate::lab::evidence_number(position),
                e(&scan.file),
                e(&scan.tool),
                e(&scan.target.kind),
                scan.findings,
                e(&scan.sha256)
            );
        }
        for (position, evidence) in assessment.evidence.iter().enumerate() {
            let _ = write!(
                out,
                "<tr><td class=\"mono nowrap\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                crate::lab::evidence_number(assessment.scans.len() + position),
                e(&evidence.path),
                evidence
                    .sha256
                    .as_deref()
                    .map_or("web page (not hashed)".to_owned(), e),
                evidence.size.map_or(String::new(), |size| size.to_string()),
                e(&crate::lab::cited_by(evidence))
            );
        }
        out.push_str("</tbody></table>");
    }

    // Review and sign-off.
    if let Some(review) = &assessment.review {
        out.push_str("<h2>Review and sign-off</h2><table class=\"meta\"><tbody>");
        for (label, value) in [
            (
                "Report",
                format!("{} revision {}", review.report_id, review.revision),
            ),
            ("Assessor", review.assessor.clone()),
            (
                "Reviewer",
                review
                    .reviewer
                    .clone()
                    .unwrap_or_else(|| "not reviewed yet".into()),
            ),
            (
                "Decision",
                review
                    .decision
                    .map_or_else(|| "none yet".into(), |decision| decision.to_string()),
            ),
            (
                "Date",
                review
                    .date
                    .map_or_else(String::new, |date| date.to_string()),
            ),
        ] {
            let _ = write!(out, "<tr><th>{label}</th><td>{}</td></tr>", e(&value));
        }
        out.push_str("</tbody></table>");
    }
    if assessment.kind == provisor_engine::Kind::Lab {
        out.push_str("<p class=\"small\"><strong>The results relate only to the item tested</strong>, identified above by its model, versions and firmware image hash.</p>");
    }
    for warning in &assessment.warnings {
        let _ = write!(
            out,
            "<p class=\"small contradiction\">Warning: {}</p>",
            e(&warning.message)
        );
    }

    let _ = writeln!(
        out,
        "<footer>Generated by provisor {} on {} from {}. Verdicts follow the decision rule above; automated findings corroborate or contradict the manufacturer's statements and never replace the laboratory's judgement.</footer></main></body></html>",
        e(&context.tool_version),
        e(&context.generated_at),
        e(&context.source)
    );
    out
}
