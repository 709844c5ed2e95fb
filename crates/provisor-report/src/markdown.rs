//! The Markdown report: the same content as the HTML report, in a form that reviews well
//! in a git diff (one table row per provision, stable order).

use std::fmt::Write;

use provisor_engine::{Assessment, Kind, Verdict};

use crate::Context;
use crate::document::conflict_text;
use crate::text::{answer_words, applicability_words, device_line, identification, markdown_cell};

/// Renders the Markdown report.
pub fn markdown(assessment: &Assessment<'_>, context: &Context) -> String {
    let mut out = String::new();
    let catalog = assessment.catalog;
    let device = &assessment.device;
    let _ = writeln!(
        out,
        "# {} — {}\n",
        markdown_cell(&device_line(device)),
        catalog.short_title
    );
    let verdict = if assessment.conformant {
        "**CONFORMANT**"
    } else {
        "**NOT CONFORMANT**"
    };
    let _ = writeln!(out, "Result: {verdict}\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    for (label, value) in identification(assessment, context) {
        let _ = writeln!(out, "| {label} | {} |", markdown_cell(&value));
    }

    let summary = &assessment.summary;
    let _ = writeln!(out, "\n## Summary\n");
    let _ = writeln!(
        out,
        "| Status | Pass | Fail | Not fulfilled | Not applicable | Open | Total |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (label, counts) in [
        ("Mandatory", &summary.mandatory),
        ("Recommended", &summary.recommended),
    ] {
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            counts.pass,
            counts.fail,
            counts.not_fulfilled,
            counts.not_applicable,
            counts.open,
            counts.total()
        );
    }

    if assessment.kind == Kind::Lab {
        let counts: Vec<String> = crate::lab::test_counts(assessment)
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(label, count)| format!("{count} {}", label.to_lowercase()))
            .collect();
        let _ = writeln!(
            out,
            "
Test cases of applicable provisions ({}): {}.",
            catalog.test_specification,
            counts.join(", ")
        );
    }

    let failures: Vec<_> = assessment
        .provisions
        .iter()
        .filter(|result| result.provision.is_mandatory() && result.verdict == Verdict::Fail)
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n## Mandatory failures\n");
        for result in failures {
            let _ = writeln!(
                out,
                "- **{}**: {}",
                result.provision.id,
                markdown_cell(&result.reasons.join("; "))
            );
        }
    }

    crate::regime::markdown_sections(assessment, &mut out);

    let _ = writeln!(out, "\n## Decision rule\n");
    for (number, rule) in crate::lab::rules(assessment).iter().enumerate() {
        let _ = writeln!(out, "{}. {rule}", number + 1);
    }

    for category in &catalog.categories {
        let _ = writeln!(out, "\n## {} {}\n", category.id, category.title);
        let _ = writeln!(
            out,
            "| Provision | Status | Applicability | Statement | Verdict | Reasons and findings |\n|---|---|---|---|---|---|"
        );
        for result in assessment
            .provisions
            .iter()
            .filter(|result| result.provision.category == category.id)
        {
            let statement = match &result.statement {
                Some(statement) => {
                    let mut text = format!("**{}**", statement.support);
                    let detail = crate::text::statement_detail(statement);
                    if !detail.is_empty() {
                        text.push_str(": ");
                        text.push_str(&markdown_cell(&detail));
                    }
                    for evidence in &statement.evidence {
                        text.push_str(&format!("<br>evidence: {}", markdown_cell(evidence)));
                    }
                    text
                }
                None => "—".into(),
            };
            let mut reasons: Vec<String> =
                result.reasons.iter().map(|r| markdown_cell(r)).collect();
            if result.applicability == provisor_engine::Applicability::Applies {
                for test in &result.tests {
                    reasons.push(format!(
                        "test {}",
                        markdown_cell(&crate::lab::test_line(assessment, test))
                    ));
                }
            }
            for &index in &result.findings {
                let finding = &assessment.findings[index];
                let accepted = match assessment.acceptance_of(index) {
                    Some(state) if finding.outcome == provisor_engine::Outcome::Fail => format!(
                        " (accepted as {} by {})",
                        state.acceptance.kind.label(),
                        markdown_cell(&state.acceptance.by)
                    ),
                    _ => String::new(),
                };
                reasons.push(format!(
                    "{} {} `{}` at {}{accepted}",
                    finding.outcome,
                    finding.severity.as_str(),
                    finding.check,
                    markdown_cell(&finding.location.to_string())
                ));
            }
            let verdict = if result.contradiction {
                format!("**{}** (contradiction)", result.verdict.label())
            } else {
                format!("**{}**", result.verdict.label())
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                result.provision.id,
                result.provision.status_label(),
                applicability_words(result),
                statement,
                verdict,
                reasons.join("<br>")
            );
        }
    }

    let _ = writeln!(out, "\n## Conditions\n");
    let _ = writeln!(
        out,
        "| # | Condition | Answer | Source |\n|---|---|---|---|"
    );
    for state in &assessment.conditions {
        let (answer, source) = answer_words(state);
        let _ = writeln!(
            out,
            "| {} | {} | {answer} | {} |",
            state.condition.id,
            markdown_cell(&state.condition.text),
            markdown_cell(&source)
        );
    }
    for conflict in &assessment.condition_conflicts {
        let _ = writeln!(
            out,
            "\n> Warning: {}",
            markdown_cell(&conflict_text(conflict))
        );
    }

    if crate::lab::shows_ixit(assessment) {
        let _ = writeln!(out, "\n## IXIT\n");
        if assessment.ixit.is_empty() {
            let _ = writeln!(out, "No IXIT entries are recorded.");
        } else {
            let _ = writeln!(out, "| Table | Entry | Fields |\n|---|---|---|");
            for entry in &assessment.ixit {
                let fields: Vec<String> = entry
                    .fields
                    .iter()
                    .filter(|(name, _)| name.as_str() != "id")
                    .map(|(name, value)| format!("{name}: {}", markdown_cell(&value.to_string())))
                    .collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    entry.table,
                    markdown_cell(&entry.name()),
                    fields.join("<br>")
                );
            }
        }
        let gaps = crate::lab::ixit_gaps(assessment);
        if !gaps.is_empty() {
            let _ = writeln!(out, "\nIXIT tables without an entry:\n");
            for (table, provisions) in gaps {
                let _ = writeln!(out, "- {table}: needed by {}", provisions.join(", "));
            }
        }
    }

    if !assessment.acceptances.is_empty() {
        let _ = writeln!(
            out,
            "\n## Accepted findings\n\n| Covers | Kind | Reason | By | Until |\n|---|---|---|---|---|"
        );
        for state in &assessment.acceptances {
            let acceptance = &state.acceptance;
            let until = crate::lab::until_words(state);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {until} |",
                markdown_cell(&acceptance.selector.to_string()),
                acceptance.kind.label(),
                markdown_cell(&acceptance.reason),
                markdown_cell(&acceptance.by)
            );
        }
    }

    if !assessment.findings.is_empty() {
        let _ = writeln!(out, "\n## Findings\n");
        let _ = writeln!(
            out,
            "| Outcome | Severity | Check | Title | Location | Provisions |\n|---|---|---|---|---|---|"
        );
        for finding in &assessment.findings {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} | {} |",
                finding.outcome,
                finding.severity.as_str(),
                finding.check,
                markdown_cell(&finding.title),
                markdown_cell(&finding.location.to_string()),
                finding.provisions.join(", ")
            );
        }
    }

    if !assessment.components.is_empty() {
        let _ = writeln!(out, "\n## Components\n");
        let _ = writeln!(
            out,
            "| Component | Version | Package URL | CPE | Found in |\n|---|---|---|---|---|"
        );
        for component in &assessment.components {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                markdown_cell(&component.name),
                markdown_cell(component.version.as_deref().unwrap_or("")),
                markdown_cell(component.purl.as_deref().unwrap_or("")),
                markdown_cell(component.cpe.as_deref().unwrap_or("")),
                markdown_cell(&component.locations.join(", "))
            );
        }
    }

    if let Some(summary) = crate::hardening::hardening(&assessment.findings) {
        let _ = writeln!(
            out,
            "\n## Exploit mitigations\n\n{} ELF binaries of the firmware image (5.6-8, 5.6-9).\n\n| Mitigation | Binaries that have it |\n|---|---|",
            summary.binaries
        );
        for row in &summary.rows {
            let _ = writeln!(out, "| {} | {} of {} |", row.name, row.have, row.of);
        }
        if !summary.weakest.is_empty() {
            let named: Vec<String> = summary
                .weakest
                .iter()
                .map(|(path, missing)| {
                    format!("`{}` (lacks {})", markdown_cell(path), missing.join(", "))
                })
                .collect();
            let _ = writeln!(out, "\nLeast hardened: {}.", named.join("; "));
        }
    }

    if !assessment.evidence.is_empty() || !assessment.scans.is_empty() {
        let _ = writeln!(out, "\n## Evidence register\n");
        let _ = writeln!(
            out,
            "| No. | Evidence | SHA-256 | Cited by |\n|---|---|---|---|"
        );
        for (position, scan) in assessment.scans.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | scan {} ({} findings) | `{}` | all |",
                crate::lab::evidence_number(position),
                markdown_cell(&scan.file),
                scan.findings,
                scan.sha256
            );
        }
        for (position, evidence) in assessment.evidence.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                crate::lab::evidence_number(assessment.scans.len() + position),
                markdown_cell(&evidence.path),
                evidence
                    .sha256
                    .as_ref()
                    .map_or("(web page)".to_owned(), |hash| format!("`{hash}`")),
                crate::lab::cited_by(evidence)
            );
        }
    }

    if let Some(review) = &assessment.review {
        let _ = writeln!(
            out,
            "\n## Review and sign-off\n\n{}.",
            markdown_cell(&crate::lab::review_words(review))
        );
    }
    if assessment.kind == Kind::Lab {
        let _ = writeln!(
            out,
            "\nThe results relate only to the item tested, identified above by its model, versions and firmware image hash."
        );
    }
    for warning in &assessment.warnings {
        let _ = writeln!(out, "\n> Warning: {}", markdown_cell(&warning.message));
    }
    out
}
