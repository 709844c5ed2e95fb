//! Renderers of `provisor diff`: regressions first, then other changes.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use provisor_engine::Diff;
use serde_json::json;

fn label(verdict: Option<provisor_engine::Verdict>) -> &'static str {
    verdict.map_or("(absent)", |verdict| verdict.label())
}

/// The diff as text.
pub fn diff_text(diff: &Diff) -> String {
    let mut out = String::new();
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    if diff.changes.is_empty() {
        let _ = writeln!(out, "no verdict changed");
    }
    let regressions = diff.changes.iter().filter(|c| c.is_regression()).count();
    if regressions > 0 {
        let _ = writeln!(out, "{red}Regressions ({regressions}){red:#}");
    }
    let mut others_heading = false;
    for change in &diff.changes {
        if !change.is_regression() && !others_heading {
            let _ = writeln!(out, "{green}Other changes{green:#}");
            others_heading = true;
        }
        let id = match &change.previous {
            Some(previous) => format!("{previous} → {}", change.provision),
            None => change.provision.clone(),
        };
        let _ = writeln!(
            out,
            "  {id:<7} {}  {} → {}",
            change.status,
            label(change.before),
            label(change.after)
        );
    }
    let word = |conformant: bool| {
        if conformant {
            "conformant"
        } else {
            "not conformant"
        }
    };
    let _ = writeln!(
        out,
        "Conformance: {} → {}",
        word(diff.conformant.0),
        word(diff.conformant.1)
    );
    out
}

/// The diff as JSON (`provisor.diff/1`).
pub fn diff_json(diff: &Diff) -> String {
    let value = json!({
        "schema": "provisor.diff/1",
        "regression": diff.has_regression(),
        "conformant": {"before": diff.conformant.0, "after": diff.conformant.1},
        "changes": diff.changes.iter().map(|change| json!({
            "provision": change.provision,
            "previous": change.previous,
            "status": change.status,
            "before": change.before.map(|v| v.as_str()),
            "after": change.after.map(|v| v.as_str()),
            "regression": change.is_regression(),
        })).collect::<Vec<_>>(),
    });
    crate::text::pretty_json(&value)
}
