//! The terminal table of `provisor check`: provisions grouped by category, verdicts in
//! colour. Styles are ANSI escapes; the caller's stream strips them when not a terminal.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use provisor_engine::{Assessment, Verdict};

use crate::text::{device_line, first_reason, headline};

/// The words beside a verdict: the statement's detail when the statement decided it,
/// otherwise the first reason.
fn summary_line(result: &provisor_engine::ProvisionResult<'_>) -> String {
    // In a lab assessment, a test case that holds the verdict back or fails it says more
    // than the statement.
    if matches!(result.verdict, Verdict::Open | Verdict::Fail)
        && let Some(reason) = result
            .reasons
            .iter()
            .find(|reason| reason.contains("test case ") && !reason.starts_with("contradiction"))
    {
        return reason.clone();
    }
    let decided_by_finding = result.contradiction
        || result
            .reasons
            .first()
            .is_some_and(|reason| reason.starts_with("finding "));
    match &result.statement {
        Some(statement)
            if !decided_by_finding
                && statement.is_justified()
                && result.applicability == provisor_engine::Applicability::Applies =>
        {
            crate::text::statement_detail(statement)
        }
        _ => first_reason(result),
    }
}

fn verdict_style(verdict: Verdict) -> Style {
    let color = match verdict {
        Verdict::Pass => AnsiColor::Green,
        Verdict::Fail => AnsiColor::Red,
        Verdict::Open => AnsiColor::Yellow,
        Verdict::NotFulfilled => AnsiColor::Magenta,
        Verdict::NotApplicable => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// Renders the check table.
pub fn check_table(assessment: &Assessment<'_>) -> String {
    let mut out = String::new();
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let _ = writeln!(
        out,
        "{bold}{}{bold:#} · {}",
        device_line(&assessment.device),
        assessment.catalog.short_title
    );
    if assessment.kind == provisor_engine::Kind::Lab {
        let mut counts = std::collections::BTreeMap::new();
        let mut total = 0;
        for (result, test) in assessment.test_results() {
            if result.applicability == provisor_engine::Applicability::Applies {
                *counts.entry(test.state.label()).or_insert(0) += 1;
                total += 1;
            }
        }
        let parts: Vec<String> = counts
            .iter()
            .map(|(label, count)| format!("{count} {}", label.to_lowercase()))
            .collect();
        let _ = writeln!(
            out,
            "{dim}lab assessment by {}: {total} test cases of applicable provisions: {}{dim:#}",
            assessment.catalog.test_specification,
            parts.join(", ")
        );
    }
    // An id column one wider than the longest id (5.13-1A in V3.1.3), at least 7.
    let id_width = assessment
        .catalog
        .provisions
        .iter()
        .map(|provision| provision.id.len() + 1)
        .max()
        .unwrap_or(0)
        .max(7);
    for category in &assessment.catalog.categories {
        let _ = writeln!(out, "\n{bold}{} {}{bold:#}", category.id, category.title);
        for result in assessment
            .provisions
            .iter()
            .filter(|result| result.provision.category == category.id)
        {
            let style = verdict_style(result.verdict);
            let mut reason = summary_line(result);
            if result.contradiction {
                reason = format!("contradiction: {reason}");
            }
            let _ = writeln!(
                out,
                "  {:<id_width$} {}  {style}{:<15}{style:#} {dim}{}{dim:#}",
                result.provision.id,
                result.provision.status.letter(),
                result.verdict.label(),
                headline(&reason, 90),
            );
        }
    }
    for conflict in &assessment.condition_conflicts {
        let warn = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
        let _ = writeln!(
            out,
            "\n{warn}warning{warn:#}: {}",
            crate::document::conflict_text(conflict)
        );
    }
    let summary = &assessment.summary;
    let _ = writeln!(
        out,
        "\n{bold}Mandatory{bold:#}    {} pass, {} fail, {} not applicable, {} open",
        summary.mandatory.pass,
        summary.mandatory.fail,
        summary.mandatory.not_applicable,
        summary.mandatory.open
    );
    let _ = writeln!(
        out,
        "{bold}Recommended{bold:#}  {} pass, {} fail, {} not fulfilled, {} not applicable, {} open",
        summary.recommended.pass,
        summary.recommended.fail,
        summary.recommended.not_fulfilled,
        summary.recommended.not_applicable,
        summary.recommended.open
    );
    let (style, word) = if assessment.conformant {
        (verdict_style(Verdict::Pass), "CONFORMANT")
    } else {
        (verdict_style(Verdict::Fail), "NOT CONFORMANT")
    };
    let failing = summary.mandatory.fail;
    let open = summary.mandatory.open + summary.recommended.open;
    let why = if assessment.conformant {
        String::new()
    } else {
        format!(": {failing} mandatory provision(s) fail, {open} provision(s) open")
    };
    let _ = writeln!(
        out,
        "{bold}Result{bold:#}       {style}{word}{style:#}{why}"
    );
    out
}
