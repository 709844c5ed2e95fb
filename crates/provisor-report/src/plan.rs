//! The test plan of `provisor plan`: every test case of every applicable provision with
//! its kind, the IXIT tables it needs, what is missing before it can run and the
//! automated checks that bear on it, as a terminal table, Markdown, CSV or JSON
//! (`provisor.plan/1`).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use provisor_engine::{Assessment, PlanItem, TestState};
use serde::Serialize;

use crate::Context;
use crate::text::{csv_field, device_line, markdown_cell, pretty_json};

/// The schema id of a plan document.
pub const PLAN_SCHEMA: &str = "provisor.plan/1";

#[derive(Serialize)]
struct PlanDocument<'a> {
    schema: &'static str,
    tool: crate::document::ToolDocument,
    edition: &'a str,
    test_specification: &'a str,
    device: &'a provisor_engine::Device,
    summary: PlanSummary,
    test_cases: Vec<PlanCaseDocument<'a>>,
}

#[derive(Serialize, Default)]
struct PlanSummary {
    total: usize,
    ready: usize,
    blocked: usize,
    pass: usize,
    fail: usize,
    proposed: usize,
    open: usize,
}

#[derive(Serialize)]
struct PlanCaseDocument<'a> {
    id: &'a str,
    provision: &'a str,
    status: &'a str,
    kind: &'a str,
    state: &'a str,
    ixit: &'a [String],
    missing: &'a [String],
    checks: &'a [String],
    findings: Vec<&'a str>,
}

fn summary(items: &[PlanItem<'_>]) -> PlanSummary {
    let mut summary = PlanSummary {
        total: items.len(),
        ..PlanSummary::default()
    };
    for item in items {
        match item.state {
            TestState::Pass => summary.pass += 1,
            TestState::Fail => summary.fail += 1,
            TestState::Proposed(_) => summary.proposed += 1,
            _ => summary.open += 1,
        }
        if !matches!(item.state, TestState::Pass | TestState::Fail) {
            if item.missing.is_empty() {
                summary.ready += 1;
            } else {
                summary.blocked += 1;
            }
        }
    }
    summary
}

/// The plan as JSON (`provisor.plan/1`).
pub fn plan_json(assessment: &Assessment<'_>, items: &[PlanItem<'_>], context: &Context) -> String {
    let document = PlanDocument {
        schema: PLAN_SCHEMA,
        tool: crate::document::ToolDocument {
            name: "provisor".into(),
            version: context.tool_version.clone(),
        },
        edition: &assessment.catalog.id,
        test_specification: &assessment.catalog.test_specification,
        device: &assessment.device,
        summary: summary(items),
        test_cases: items
            .iter()
            .map(|item| PlanCaseDocument {
                id: &item.case.id,
                provision: &item.provision.id,
                status: item.provision.status.letter(),
                kind: item.case.kind.as_str(),
                state: item.state.as_str(),
                ixit: &item.ixit,
                missing: &item.missing,
                checks: &item.checks,
                findings: item
                    .findings
                    .iter()
                    .map(|&index| assessment.findings[index].id.as_str())
                    .collect(),
            })
            .collect(),
    };
    pretty_json(&document)
}

/// The plan as CSV, one row per test case.
pub fn plan_csv(items: &[PlanItem<'_>]) -> String {
    let mut out = String::from(
        "Test case,Provision,Status,Kind,State,IXIT,Missing before it can run,Automated checks\r\n",
    );
    for item in items {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{}\r\n",
            csv_field(&item.case.id),
            csv_field(&item.provision.id),
            item.provision.status.letter(),
            item.case.kind.as_str(),
            item.state.label(),
            csv_field(&item.ixit.join(" ")),
            csv_field(&item.missing.join("; ")),
            csv_field(&item.checks.join(" ")),
        );
    }
    out
}

/// The plan as Markdown.
pub fn plan_markdown(assessment: &Assessment<'_>, items: &[PlanItem<'_>]) -> String {
    let counts = summary(items);
    let mut out = format!(
        "# Test plan: {}\n\n{} · {}\n\n{} test cases: {} passed, {} failed, {} proposed by automated evidence, {} open; of those not decided, {} can run and {} wait for something.\n\n",
        markdown_cell(&device_line(&assessment.device)),
        assessment.catalog.short_title,
        assessment.catalog.test_specification,
        counts.total,
        counts.pass,
        counts.fail,
        counts.proposed,
        counts.open,
        counts.ready,
        counts.blocked,
    );
    out.push_str("| Test case | Provision | Kind | State | IXIT | Missing before it can run | Automated checks |\n|---|---|---|---|---|---|---|\n");
    for item in items {
        let _ = writeln!(
            out,
            "| {} | {} ({}) | {} | {} | {} | {} | {} |",
            item.case.display_id(),
            item.provision.id,
            item.provision.status.letter(),
            item.case.kind.as_str(),
            item.state.label(),
            markdown_cell(&item.ixit.join(", ")),
            markdown_cell(&item.missing.join("; ")),
            markdown_cell(&item.checks.join(", ")),
        );
    }
    out
}

fn state_style(state: TestState) -> Style {
    let color = match state {
        TestState::Pass => AnsiColor::Green,
        TestState::Fail => AnsiColor::Red,
        TestState::Proposed(_) => AnsiColor::Cyan,
        TestState::Disputed => AnsiColor::Magenta,
        _ => AnsiColor::Yellow,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// The plan as a terminal table.
pub fn plan_table(assessment: &Assessment<'_>, items: &[PlanItem<'_>]) -> String {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let counts = summary(items);
    let mut out = format!(
        "{bold}Test plan{bold:#} · {} · {}\n{} test cases: {} passed, {} failed, {} proposed, {} open ({} can run, {} wait)\n",
        device_line(&assessment.device),
        assessment.catalog.test_specification,
        counts.total,
        counts.pass,
        counts.fail,
        counts.proposed,
        counts.open,
        counts.ready,
        counts.blocked,
    );
    let mut provision = "";
    for item in items {
        if item.provision.id != provision {
            provision = &item.provision.id;
            let _ = writeln!(
                out,
                "\n{bold}{} ({}){bold:#} {dim}IXIT: {}{dim:#}",
                item.provision.id,
                item.provision.status.letter(),
                if item.ixit.is_empty() {
                    "none".to_owned()
                } else {
                    item.ixit.join(", ")
                }
            );
        }
        let style = state_style(item.state);
        let mut notes = Vec::new();
        if !item.missing.is_empty() {
            notes.push(format!("needs {}", item.missing.join(", ")));
        }
        if !item.checks.is_empty() {
            notes.push(format!("checks: {}", item.checks.join(", ")));
        }
        let _ = writeln!(
            out,
            "  {:<10} {:<21} {style}{:<14}{style:#} {dim}{}{dim:#}",
            item.case.display_id(),
            item.case.kind.as_str(),
            item.state.label(),
            notes.join("; ")
        );
    }
    out
}
