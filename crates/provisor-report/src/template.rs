//! The assessment-file template that `provisor init` writes, and the file `provisor
//! migrate` writes: every condition with its question and every provision with its text,
//! commented where nothing is known yet, so that the file is valid as written and the
//! manufacturer fills it in place.

use std::collections::BTreeMap;
use std::fmt::Write;

use provisor_catalog::{Catalog, ConditionId};
use provisor_engine::{AnswerSource, ConditionAnswer, Device, Statement};

/// A TOML basic string.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Wraps a comment to about 88 columns.
pub(crate) fn comment(out: &mut String, indent: &str, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + word.len() + 1 > 86 - indent.len() {
            let _ = writeln!(out, "{indent}# {line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}# {line}");
    }
}

/// Renders a new assessment file. `answers` holds the answers in force (declared ones
/// are written as values, implied ones as comments).
pub fn assessment_template(
    catalog: &Catalog,
    device: &Device,
    answers: &BTreeMap<ConditionId, ConditionAnswer>,
) -> String {
    assessment_text(
        catalog,
        "# provisor assessment: one file per device model and firmware version.\n#\n# Check it with `provisor check FILE`; write a report with\n# `provisor report FILE --format html -o report.html`.\n",
        "",
        device,
        answers,
        &BTreeMap::new(),
    )
}

/// Renders an assessment file: `header` (comment lines), the edition, `preamble` (top
/// level keys such as `kind`), the device, the conditions with their answers in force
/// and the statements, every unanswered one as a comment to fill in.
pub(crate) fn assessment_text(
    catalog: &Catalog,
    header: &str,
    preamble: &str,
    device: &Device,
    answers: &BTreeMap<ConditionId, ConditionAnswer>,
    statements: &BTreeMap<String, Statement>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "edition = {}", quoted(&catalog.id));
    let _ = writeln!(out, "{preamble}");
    let _ = writeln!(out, "[device]");
    let field = |out: &mut String, name: &str, value: &Option<String>, example: &str| match value {
        Some(value) => {
            let _ = writeln!(out, "{name} = {}", quoted(value));
        }
        None => {
            let _ = writeln!(out, "# {name} = {}", quoted(example));
        }
    };
    field(&mut out, "manufacturer", &device.manufacturer, "Acme");
    field(&mut out, "model", &device.model, "SmartCam C200");
    field(
        &mut out,
        "hardware_version",
        &device.hardware_version,
        "rev B",
    );
    field(
        &mut out,
        "firmware_version",
        &device.firmware_version,
        "3.2.1",
    );
    field(
        &mut out,
        "firmware_sha256",
        &device.firmware_sha256,
        "sha256 of the image",
    );
    field(
        &mut out,
        "description",
        &device.description,
        "what the device is and does",
    );
    field(
        &mut out,
        "manufacturer_address",
        &device.manufacturer_address,
        "1 Example Street, London, EC1A 1AA, United Kingdom",
    );
    field(
        &mut out,
        "batch",
        &device.batch,
        "units made from January 2026",
    );
    field(
        &mut out,
        "support_period_end",
        &device.support_period_end,
        "2030-12-31",
    );

    let has_features = catalog.features().next().is_some();
    let _ = writeln!(
        out,
        "\n# Conditions decide which provisions apply. Answer each `N = true` or `N = false`,\n# or `N = {{ answer = true, note = \"why\" }}`; leave a line commented while undecided\n# (the provisions that depend on it stay OPEN).{}\n[conditions]",
        if has_features {
            "\n# Features (a to aa) are answered the same way, by their letter (`a = true`): a\n# provision that needs a feature the device does not have is NOT APPLICABLE."
        } else {
            ""
        }
    );
    let mut features_begun = false;
    for condition in &catalog.conditions {
        if condition.kind == provisor_catalog::ConditionKind::Feature && !features_begun {
            features_begun = true;
            let _ = writeln!(
                out,
                "\n# ─── Features: a feature, capability or mechanism that needs to be present for\n# the corresponding provision to apply ───"
            );
        }
        out.push('\n');
        comment(
            &mut out,
            "",
            &format!("{}) {}", condition.id, condition.text),
        );
        comment(&mut out, "", &condition.question);
        let dependents: Vec<&str> = catalog
            .provisions_depending_on(&condition.id)
            .map(|provision| provision.id.as_str())
            .collect();
        if !dependents.is_empty() {
            let _ = writeln!(out, "# decides: {}", dependents.join(", "));
        }
        match answers.get(&condition.id) {
            Some(answer) if answer.source == AnswerSource::Declared => {
                let carried = if answer.carried {
                    ", carried = true"
                } else {
                    ""
                };
                match &answer.note {
                    Some(note) => {
                        let _ = writeln!(
                            out,
                            "{} = {{ answer = {}, note = {}{carried} }}",
                            condition.id,
                            answer.answer,
                            quoted(note)
                        );
                    }
                    None if answer.carried => {
                        let _ = writeln!(
                            out,
                            "{} = {{ answer = {}{carried} }}",
                            condition.id, answer.answer
                        );
                    }
                    None => {
                        let _ = writeln!(out, "{} = {}", condition.id, answer.answer);
                    }
                }
            }
            Some(answer) => {
                let why = match &answer.source {
                    AnswerSource::Implied { from, .. } => format!("follows from {}", from.label()),
                    AnswerSource::Inferred { because } => format!("inferred: {because}"),
                    AnswerSource::Declared => String::new(),
                };
                let _ = writeln!(out, "# {} = {}    ({why})", condition.id, answer.answer);
            }
            None => {
                let _ = writeln!(out, "# {} = true", condition.id);
            }
        }
    }

    let derived = catalog.derived_id();
    let _ = writeln!(
        out,
        "\n# Statements: the Implementation Conformance Statement. For each provision,\n# uncomment its table and say whether it is met: support = \"yes\", \"no\" or\n# \"not-applicable\"; detail says how it is met, or why not (a recommendation not met\n# needs a justification here: that is provision {derived}); evidence lists files relative to\n# this one, or URLs."
    );
    for category in &catalog.categories {
        let _ = writeln!(out, "\n# ─── {} {} ───", category.id, category.title);
        for provision in catalog.provisions_in(&category.id) {
            let _ = writeln!(out, "\n# {} ({})", provision.id, provision.status_label());
            comment(&mut out, "", &provision.text);
            if let Some(marker) = provision.text_source.marker() {
                let _ = writeln!(out, "# ({marker})");
            }
            if provision.derived.is_some() {
                let _ = writeln!(
                    out,
                    "# Derived from the recommendations' verdicts: no statement is written for it."
                );
                continue;
            }
            match statements.get(&provision.id) {
                Some(statement) => {
                    let _ = writeln!(out, "[provision.{}]", quoted(&provision.id));
                    let _ = writeln!(out, "support = {}", quoted(statement.support.as_str()));
                    let _ = writeln!(out, "detail = {}", quoted(&statement.detail));
                    let evidence: Vec<String> =
                        statement.evidence.iter().map(|path| quoted(path)).collect();
                    let _ = writeln!(out, "evidence = [{}]", evidence.join(", "));
                    if let Some(carried) = &statement.carried {
                        let _ = writeln!(
                            out,
                            "# Carried from {carried}: check it against this edition, then remove the next line."
                        );
                        let _ = writeln!(out, "carried = {}", quoted(carried));
                    }
                }
                None => {
                    let _ = writeln!(out, "# [provision.{}]", quoted(&provision.id));
                    let _ = writeln!(out, "# support = \"yes\"");
                    let _ = writeln!(out, "# detail = \"\"");
                    let _ = writeln!(out, "# evidence = []");
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\n# Scans attached to this assessment (`provisor scan … --assessment FILE` adds them):\n# [[scan]]\n# file = \"scans/firmware.json\""
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_toml_needs() {
        assert_eq!(quoted("a \"b\" \\ c\n"), "\"a \\\"b\\\" \\\\ c\\n\"");
    }
}
