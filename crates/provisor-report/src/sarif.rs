//! SARIF 2.1.0 for code-scanning services: one rule per provision of the edition, one
//! result per FAIL or OPEN provision, each located in the assessment file (the
//! statement's line, or line 1) so that services accept it.

use provisor_engine::{Assessment, Verdict};
use serde_json::{Value, json};

use crate::Context;
use crate::text::headline;

/// Renders the SARIF log.
pub fn sarif(assessment: &Assessment<'_>, context: &Context) -> String {
    let catalog = assessment.catalog;
    let rules: Vec<Value> = catalog
        .provisions
        .iter()
        .map(|provision| {
            let category = catalog
                .category(&provision.category)
                .map_or("", |category| category.title.as_str());
            json!({
                "id": provision.id,
                "name": format!("Provision{}", provision.id.replace(['.', '-'], "_")),
                "shortDescription": {"text": headline(&assessment.shown_text(provision), 120)},
                "fullDescription": {"text": assessment.shown_text(provision)},
                "help": {"text": format!(
                    "{} {} ({}), {}: {}",
                    catalog.short_title, provision.id, provision.status_label(), category, assessment.shown_text(provision)
                )},
                "defaultConfiguration": {
                    "level": if provision.is_mandatory() { "error" } else { "warning" }
                },
                "properties": {
                    "category": provision.category,
                    "status": provision.status.letter(),
                    "conditions": provision.conditions,
                    "tags": ["en-303-645", "iot-security"],
                },
            })
        })
        .collect();

    let results: Vec<Value> = assessment
        .provisions
        .iter()
        .enumerate()
        .filter(|(_, result)| matches!(result.verdict, Verdict::Fail | Verdict::Open))
        .map(|(index, result)| {
            let provision = result.provision;
            let line = result
                .statement
                .as_ref()
                .and_then(|statement| statement.line)
                .unwrap_or(1);
            let (kind, level) = match result.verdict {
                Verdict::Fail if provision.is_mandatory() => ("fail", "error"),
                Verdict::Fail => ("fail", "warning"),
                _ => ("open", "none"),
            };
            let mut message = format!("{} {}: {}", provision.id, result.verdict.label(), result.reasons.join("; "));
            if result.contradiction {
                message.push_str(" (the statement contradicts a failing finding)");
            }
            json!({
                "ruleId": provision.id,
                "ruleIndex": index,
                "kind": kind,
                "level": level,
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": context.source.replace('\\', "/")},
                        "region": {"startLine": line},
                    }
                }],
                "partialFingerprints": {
                    "provisorProvision/v1": format!("{}:{}", catalog.id, provision.id)
                },
                "properties": {
                    "verdict": result.verdict.as_str(),
                    "applicability": result.applicability.as_str(),
                    "findings": assessment.findings_of(result).map(|f| f.id.clone()).collect::<Vec<_>>(),
                },
            })
        })
        .collect();

    sarif_log(
        &context.tool_version,
        rules,
        results,
        json!({
            "automationDetails": {"id": format!("provisor/{}/", catalog.id)},
            "properties": {
                "conformant": assessment.conformant,
                "edition": catalog.id,
                "device": assessment.device.display_name(),
            },
        }),
    )
}

/// A SARIF 2.1.0 log of one provisor run: the envelope shared by the assessment's and
/// the scans' logs. `run_fields` are added to the run object (automation details,
/// properties).
pub(crate) fn sarif_log(
    version: &str,
    rules: Vec<Value>,
    results: Vec<Value>,
    run_fields: Value,
) -> String {
    let mut run = json!({
        "tool": {"driver": {
            "name": "provisor",
            "version": version,
            "semanticVersion": version,
            "informationUri": "https://github.com/provisor-iot/provisor",
            "rules": rules,
        }},
        "results": results,
    });
    if let (Some(run), Value::Object(fields)) = (run.as_object_mut(), run_fields) {
        run.extend(fields);
    }
    crate::text::pretty_json(&json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }))
}
