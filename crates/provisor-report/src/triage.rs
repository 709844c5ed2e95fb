//! Triage views for `provisor triage`: the failing findings that decide verdicts and the
//! accepted ones, as a terminal table; `[[accept]]` stubs to fill in; and the TOML of one
//! acceptance. The acceptance syntax is the assessment file's (see provisor-engine).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use provisor_engine::{AcceptanceKind, Assessment, Date, Finding, Outcome};

/// A TOML basic string.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn place(finding: &Finding) -> String {
    let location = finding.location.to_string();
    if location.is_empty() {
        "-".into()
    } else {
        location
    }
}

/// The failing findings that decide verdicts, then the accepted ones with their
/// acceptance.
pub fn triage_table(assessment: &Assessment<'_>) -> String {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let mut out = String::new();
    let deciding: Vec<(usize, &Finding)> = assessment.deciding_failures().collect();
    let _ = writeln!(
        out,
        "{bold}{} failing finding{} decide{} verdicts{bold:#}",
        deciding.len(),
        if deciding.len() == 1 { "" } else { "s" },
        if deciding.len() == 1 { "s" } else { "" }
    );
    for (_, finding) in &deciding {
        let _ = writeln!(
            out,
            "  {} {red}{:<8}{red:#} {:<32} {}\n  {:<16} {dim}{} · provisions {}{dim:#}",
            finding.id,
            finding.severity.as_str(),
            finding.check,
            finding.title,
            "",
            place(finding),
            finding.provisions.join(", ")
        );
    }
    let accepted: Vec<_> = assessment
        .findings
        .iter()
        .enumerate()
        .filter(|(_, finding)| finding.outcome == Outcome::Fail)
        .filter_map(|(index, finding)| {
            assessment
                .acceptance_of(index)
                .map(|state| (finding, &state.acceptance))
        })
        .collect();
    if !accepted.is_empty() {
        let _ = writeln!(out, "\n{bold}{} accepted{bold:#}", accepted.len());
        for (finding, acceptance) in accepted {
            let until = acceptance
                .until
                .map(|date| format!(" until {date}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {:<32} {}\n  {:<16} {dim}{} by {}{until}: {}{dim:#}",
                finding.id,
                finding.check,
                finding.title,
                "",
                acceptance.kind.label(),
                acceptance.by,
                acceptance.reason
            );
        }
    }
    if !deciding.is_empty() {
        let _ = writeln!(
            out,
            "\nAccept one with `provisor triage FILE --accept ID --kind false-positive|accepted-risk --reason … --by …`,\nor print stubs to fill in with `--stubs`."
        );
    }
    out
}

/// The TOML of one acceptance of a finding by its id.
pub fn acceptance_entry(
    finding: &Finding,
    kind: AcceptanceKind,
    reason: &str,
    by: &str,
    until: Option<Date>,
) -> String {
    let mut entry = format!(
        "[[accept]]  # {} · {} · {}\nfinding = {}\nkind = {}\nreason = {}\nby = {}\n",
        finding.check,
        finding.title.replace('\n', " "),
        place(finding),
        quoted(&finding.id),
        quoted(kind.as_str()),
        quoted(reason),
        quoted(by),
    );
    if let Some(until) = until {
        let _ = writeln!(entry, "until = {until}");
    }
    entry
}

/// `[[accept]]` stubs for every deciding failing finding, to fill in: until `reason`
/// and `by` are written, the assessment refuses them.
pub fn triage_stubs(assessment: &Assessment<'_>) -> String {
    let mut out = String::from(
        "# Acceptances to review: keep the ones that hold, write why and who, and paste\n# them into the assessment. kind is \"false-positive\" (the check is wrong) or\n# \"accepted-risk\" (it is right and the risk is accepted); until is the last day.\n",
    );
    for (_, finding) in assessment.deciding_failures() {
        out.push('\n');
        out.push_str(&format!(
            "[[accept]]  # {} · {} · {}\nfinding = {}\nkind = \"false-positive\"\nreason = \"\"\nby = \"\"\n# until = 2027-06-30\n",
            finding.check,
            finding.title.replace('\n', " "),
            place(finding),
            quoted(&finding.id),
        ));
    }
    out
}
