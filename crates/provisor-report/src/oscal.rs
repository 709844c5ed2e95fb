//! OSCAL 1.1 JSON: the ICS as a system security plan, the TS 103 701 test plan as an
//! assessment plan, and the verdicts as assessment results, so that GRC tools can read
//! an EN 303 645 assessment. Control ids are the provision ids prefixed with the
//! edition (`en303645-5.1-1`), since OSCAL tokens start with a letter. UUIDs are
//! name-based (version 5) over the device, the edition and the item, so the documents
//! are reproducible and refer to each other by stable ids.

use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use provisor_engine::{Applicability, Assessment, Kind, Outcome, Verdict};

use crate::Context;
use crate::text::{device_line, pretty_json};

/// The OSCAL version the documents follow.
pub const OSCAL_VERSION: &str = "1.1.2";

/// The namespace of provisor's own properties.
const NS: &str = "https://github.com/provisor-iot/provisor/ns/oscal";

/// provisor's namespace for name-based UUIDs (itself a version 5 UUID of the URL above).
const UUID_NAMESPACE: [u8; 16] = [
    0x5b, 0x1f, 0x3c, 0x52, 0x8e, 0x4a, 0x5d, 0x0b, 0x9c, 0x6e, 0x21, 0x7a, 0x44, 0x90, 0x1d, 0xe3,
];

/// A version 5 UUID of `name` in provisor's namespace.
fn uuid(name: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(UUID_NAMESPACE);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// What makes the UUIDs of one assessment differ from another's.
fn scope(assessment: &Assessment<'_>) -> String {
    let device = &assessment.device;
    format!(
        "{}/{}/{}/{}",
        assessment.catalog.id,
        device.manufacturer.as_deref().unwrap_or(""),
        device.model.as_deref().unwrap_or(""),
        device.firmware_version.as_deref().unwrap_or("")
    )
}

fn control_id(provision: &str) -> String {
    format!("en303645-{provision}")
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "ns": NS, "value": value})
}

/// OSCAL text fields must not be empty or start or end with blank space.
fn text(value: &str) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        "(none)".into()
    } else {
        trimmed.to_owned()
    }
}

fn metadata(assessment: &Assessment<'_>, context: &Context, what: &str) -> Value {
    let mut metadata = json!({
        "title": format!("{what}: {} against {}", device_line(&assessment.device), assessment.catalog.short_title),
        "last-modified": context.generated_at,
        "version": assessment
            .review
            .as_ref()
            .map_or_else(|| "draft".to_owned(), |review| format!("{} revision {}", review.report_id, review.revision)),
        "oscal-version": OSCAL_VERSION,
        "props": [prop("tool", &format!("provisor {}", context.tool_version)), prop("assessment-kind", assessment.kind.as_str())],
    });
    if let Some(manufacturer) = &assessment.device.manufacturer {
        metadata["parties"] = json!([{
            "uuid": uuid(&format!("{}/party/manufacturer", scope(assessment))),
            "type": "organization",
            "name": manufacturer,
        }]);
    }
    metadata
}

fn back_matter(assessment: &Assessment<'_>) -> Value {
    let mut resources = vec![json!({
        "uuid": uuid(&format!("{}/resource/standard", assessment.catalog.id)),
        "title": assessment.catalog.title,
        "description": format!("The standard assessed against; test cases from {}.", assessment.catalog.test_specification),
    })];
    for evidence in &assessment.evidence {
        let mut resource = json!({
            "uuid": uuid(&format!("{}/evidence/{}", scope(assessment), evidence.path)),
            "title": evidence.path,
        });
        match &evidence.sha256 {
            Some(hash) => {
                resource["rlinks"] = json!([{"href": evidence.path, "hashes": [{"algorithm": "SHA-256", "value": hash}]}]);
            }
            None => resource["rlinks"] = json!([{"href": evidence.path}]),
        }
        resources.push(resource);
    }
    json!({"resources": resources})
}

/// The ICS as an OSCAL system security plan.
pub fn oscal_ssp(assessment: &Assessment<'_>, context: &Context) -> String {
    let scope = scope(assessment);
    let device = &assessment.device;
    let requirements: Vec<Value> = assessment
        .provisions
        .iter()
        .filter(|result| result.statement.is_some() || result.provision.derived.is_some())
        .map(|result| {
            let mut requirement = json!({
                "uuid": uuid(&format!("{scope}/requirement/{}", result.provision.id)),
                "control-id": control_id(&result.provision.id),
                "props": [prop("status", &result.provision.status_label()), prop("applicability", result.applicability.as_str())],
            });
            if let Some(statement) = &result.statement {
                requirement["props"]
                    .as_array_mut()
                    .expect("props is an array")
                    .push(prop("support", statement.support.as_str()));
                requirement["remarks"] = json!(text(&statement.detail));
                let links: Vec<Value> = statement
                    .evidence
                    .iter()
                    .map(|path| json!({"href": path, "rel": "evidence"}))
                    .collect();
                if !links.is_empty() {
                    requirement["links"] = json!(links);
                }
            } else {
                requirement["remarks"] = json!("Derived from the verdicts of the recommendations.");
            }
            requirement
        })
        .collect();
    let conditions: Vec<Value> = assessment
        .conditions
        .iter()
        .filter_map(|state| {
            state.answer.as_ref().map(|answer| {
                prop(
                    &format!("condition-{}", state.condition.id),
                    if answer.answer { "true" } else { "false" },
                )
            })
        })
        .collect();
    let document = json!({
        "system-security-plan": {
            "uuid": uuid(&format!("{scope}/ssp")),
            "metadata": metadata(assessment, context, "Implementation Conformance Statement"),
            "import-profile": {"href": format!("#{}", uuid(&format!("{}/resource/standard", assessment.catalog.id)))},
            "system-characteristics": {
                "system-ids": [{"identifier-type": NS, "id": text(&format!("{}/{}", device.manufacturer.as_deref().unwrap_or("unknown"), device.model.as_deref().unwrap_or("unknown")))}],
                "system-name": device_line(device),
                "description": text(device.description.as_deref().unwrap_or("A consumer IoT device.")),
                "props": conditions,
                "system-information": {"information-types": [{
                    "title": "Consumer IoT device data",
                    "description": "The data the device and its associated services process, as the conditions of the assessment describe them.",
                }]},
                "status": {"state": "operational"},
                "authorization-boundary": {"description": "The device under test, identified by its model, versions and firmware image, and its associated services as far as the provisions name them."},
            },
            "system-implementation": {
                "users": [{"uuid": uuid(&format!("{scope}/user/consumer")), "title": "Consumer"}],
                "components": [{
                    "uuid": uuid(&format!("{scope}/component/device")),
                    "type": "this-system",
                    "title": device_line(device),
                    "description": text(device.description.as_deref().unwrap_or("The device under assessment.")),
                    "props": device.firmware_sha256.as_ref().map(|hash| vec![prop("firmware-sha256", hash)]).unwrap_or_default(),
                    "status": {"state": "operational"},
                }],
            },
            "control-implementation": {
                "description": format!("The manufacturer's Implementation Conformance Statement against {}: support and detail per provision.", assessment.catalog.short_title),
                "implemented-requirements": requirements,
            },
            "back-matter": back_matter(assessment),
        }
    });
    pretty_json(&strip_empty(document))
}

/// The test plan as an OSCAL assessment plan: the applicable provisions as the reviewed
/// controls, each test case as an activity.
pub fn oscal_ap(assessment: &Assessment<'_>, context: &Context) -> String {
    let scope = scope(assessment);
    let applicable: Vec<Value> = assessment
        .provisions
        .iter()
        .filter(|result| result.applicability == Applicability::Applies)
        .map(|result| json!({"control-id": control_id(&result.provision.id)}))
        .collect();
    let activities: Vec<Value> = assessment
        .provisions
        .iter()
        .filter(|result| result.applicability == Applicability::Applies)
        .flat_map(|result| {
            let scope = scope.clone();
            result.provision.test_cases.iter().map(move |case| {
                json!({
                    "uuid": uuid(&format!("{scope}/activity/{}", case.id)),
                    "title": format!("Test case {} ({})", case.display_id(), case.kind.as_str()),
                    "description": format!("{} test case {} of the test group of provision {}.", assessment.catalog.test_specification, case.id, result.provision.id),
                    "props": [prop("test-case", &case.id), prop("kind", case.kind.as_str())],
                    "related-controls": {"control-selections": [{"include-controls": [{"control-id": control_id(&result.provision.id)}]}]},
                })
            })
        })
        .collect();
    let mut plan = json!({
        "uuid": uuid(&format!("{scope}/ap")),
        "metadata": metadata(assessment, context, "Test plan"),
        "import-ssp": {"href": "ssp.json"},
        "reviewed-controls": {
            "description": "The provisions that apply to the device, each tested by the test cases of its TS 103 701 test group.",
            "control-selections": [{"include-controls": applicable}],
        },
        "back-matter": back_matter(assessment),
    });
    if !activities.is_empty() {
        plan["local-definitions"] = json!({"activities": activities});
    }
    pretty_json(&strip_empty(json!({"assessment-plan": plan})))
}

/// The verdicts as OSCAL assessment results: a finding per provision (its verdict as a
/// property and an objective status), observations for the automated findings and the
/// test cases recorded.
pub fn oscal_ar(assessment: &Assessment<'_>, context: &Context) -> String {
    let scope = scope(assessment);
    let mut observations = Vec::new();
    for finding in &assessment.findings {
        if finding.outcome == Outcome::Info {
            continue;
        }
        observations.push(json!({
            "uuid": uuid(&format!("{scope}/observation/finding/{}", finding.id)),
            "title": text(&finding.title),
            "description": text(&format!("{} ({}, {}) at {}", finding.title, finding.check, finding.outcome, finding.location)),
            "props": [prop("check", &finding.check), prop("outcome", finding.outcome.as_str()), prop("finding-id", &finding.id)],
            "methods": ["TEST"],
            "types": ["finding"],
            "collected": context.generated_at,
        }));
    }
    for (result, test) in assessment.test_results() {
        let Some(record) = &test.record else { continue };
        let _ = result;
        observations.push(json!({
            "uuid": uuid(&format!("{scope}/observation/test/{}", test.case.id)),
            "title": format!("Test case {}: {}", test.case.id, test.state.label()),
            "description": text(if record.method.is_empty() { "Recorded by the assessor." } else { &record.method }),
            "props": [prop("test-case", &test.case.id), prop("verdict", record.verdict.as_str())],
            "methods": [if test.case.kind == provisor_catalog::TestKind::Functional { "TEST" } else { "EXAMINE" }],
            "collected": record.date.map_or_else(|| context.generated_at.clone(), |date| format!("{date}T00:00:00Z")),
        }));
    }
    let findings: Vec<Value> = assessment
        .provisions
        .iter()
        .map(|result| {
            let related: Vec<Value> = result
                .findings
                .iter()
                .map(|&index| &assessment.findings[index])
                .filter(|finding| finding.outcome != Outcome::Info)
                .map(|finding| json!({"observation-uuid": uuid(&format!("{scope}/observation/finding/{}", finding.id))}))
                .chain(result.tests.iter().filter(|test| test.record.is_some()).map(|test| {
                    json!({"observation-uuid": uuid(&format!("{scope}/observation/test/{}", test.case.id))})
                }))
                .collect();
            let state = match result.verdict {
                Verdict::Pass | Verdict::NotApplicable => "satisfied",
                _ => "not-satisfied",
            };
            let mut finding = json!({
                "uuid": uuid(&format!("{scope}/finding/{}", result.provision.id)),
                "title": format!("Provision {}: {}", result.provision.id, result.verdict.label()),
                "description": text(&result.reasons.join("; ")),
                "props": [prop("verdict", result.verdict.as_str()), prop("status", &result.provision.status_label())],
                "target": {
                    "type": "objective-id",
                    "target-id": control_id(&result.provision.id),
                    "status": {"state": state, "remarks": result.verdict.label()},
                },
            });
            if result.contradiction {
                finding["props"].as_array_mut().expect("props is an array").push(prop("contradiction", "true"));
            }
            if !related.is_empty() {
                finding["related-observations"] = json!(related);
            }
            finding
        })
        .collect();
    let reviewed: Vec<Value> = assessment
        .provisions
        .iter()
        .map(|result| json!({"control-id": control_id(&result.provision.id)}))
        .collect();
    let mut result = json!({
        "uuid": uuid(&format!("{scope}/result")),
        "title": format!("{} of {}", if assessment.kind == Kind::Lab { "Conformance assessment" } else { "Self-assessment" }, device_line(&assessment.device)),
        "description": format!(
            "{}: {}.",
            if assessment.conformant { "Conformant" } else { "Not conformant" },
            crate::lab::rules(assessment).join(" ")
        ),
        "start": context.generated_at,
        "props": [prop("conformant", if assessment.conformant { "true" } else { "false" })],
        "reviewed-controls": {"control-selections": [{"include-controls": reviewed}]},
        "findings": findings,
    });
    if !observations.is_empty() {
        result["observations"] = json!(observations);
    }
    let document = json!({
        "assessment-results": {
            "uuid": uuid(&format!("{scope}/ar")),
            "metadata": metadata(assessment, context, "Assessment results"),
            "import-ap": {"href": "ap.json"},
            "results": [result],
            "back-matter": back_matter(assessment),
        }
    });
    pretty_json(&strip_empty(document))
}

/// OSCAL refuses empty arrays: they are left out.
fn strip_empty(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !matches!(value, Value::Array(items) if items.is_empty()))
                .map(|(key, value)| (key, strip_empty(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_empty).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_5_and_stable() {
        let first = uuid("a");
        assert_eq!(first, uuid("a"));
        assert_ne!(first, uuid("b"));
        assert_eq!(first.len(), 36);
        assert_eq!(&first[14..15], "5");
        assert!(matches!(&first[19..20], "8" | "9" | "a" | "b"));
    }
}
