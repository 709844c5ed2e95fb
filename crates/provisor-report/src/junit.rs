//! JUnit XML for CI dashboards. A self-assessment is one test suite per category with
//! one test case per provision; a lab assessment is one suite per provision holding the
//! provision and each of its TS 103 701 test cases. FAIL is a failure; NOT APPLICABLE,
//! NOT FULFILLED, OPEN and every test case not yet passed or failed are skipped with the
//! reason. The layout is the Ant JUnit report that Jenkins, GitLab and GitHub read.

use std::fmt::Write;

use provisor_engine::{Applicability, Assessment, Kind, ProvisionResult, TestState, Verdict};

use crate::Context;
use crate::text::device_line;

/// Escapes text for XML content and attribute values: the HTML escaping (which XML
/// reads alike), with the characters XML 1.0 cannot hold dropped.
fn x(text: &str) -> String {
    let allowed: String = text
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || (c as u32 >= 0x20 && c != '\u{fffe}' && c != '\u{ffff}')
        })
        .collect();
    crate::text::html_escape(&allowed)
}

/// One `<testcase>`.
struct Case {
    class: String,
    name: String,
    outcome: CaseOutcome,
}

enum CaseOutcome {
    Passed,
    Failed { message: String, detail: String },
    Skipped { message: String },
}

fn provision_case(assessment: &Assessment<'_>, result: &ProvisionResult<'_>, class: &str) -> Case {
    let reasons = result.reasons.join("\n");
    let first = result.reasons.first().cloned().unwrap_or_default();
    let outcome = match result.verdict {
        Verdict::Pass => CaseOutcome::Passed,
        Verdict::Fail => CaseOutcome::Failed {
            message: if result.contradiction {
                format!("contradiction: {first}")
            } else {
                first
            },
            detail: reasons,
        },
        Verdict::NotApplicable => CaseOutcome::Skipped {
            message: format!("not applicable: {first}"),
        },
        Verdict::NotFulfilled => CaseOutcome::Skipped {
            message: format!("not fulfilled, justified: {first}"),
        },
        Verdict::Open => CaseOutcome::Skipped {
            message: format!("open: {}", result.reasons.join("; ")),
        },
    };
    Case {
        class: class.to_owned(),
        name: format!(
            "{} ({}) {}",
            result.provision.id,
            result.provision.status_label(),
            crate::text::headline(&assessment.shown_text(result.provision), 100)
        ),
        outcome,
    }
}

fn test_cases(assessment: &Assessment<'_>, result: &ProvisionResult<'_>) -> Vec<Case> {
    result
        .tests
        .iter()
        .map(|test| {
            let line = crate::lab::test_line(assessment, test);
            let outcome = if result.applicability != Applicability::Applies {
                CaseOutcome::Skipped {
                    message: format!("provision {} does not apply", result.provision.id),
                }
            } else {
                match test.state {
                    TestState::Pass => CaseOutcome::Passed,
                    TestState::Fail => CaseOutcome::Failed {
                        message: format!("test case {} failed", test.case.id),
                        detail: [Some(line.as_str()), crate::lab::test_method(test)]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join("\n"),
                    },
                    _ => CaseOutcome::Skipped { message: line },
                }
            };
            Case {
                class: result.provision.id.clone(),
                name: format!("{} {}", test.case.display_id(), test.case.kind.as_str()),
                outcome,
            }
        })
        .collect()
}

fn write_suite(out: &mut String, name: &str, id: usize, timestamp: &str, cases: &[Case]) {
    let failures = cases
        .iter()
        .filter(|case| matches!(case.outcome, CaseOutcome::Failed { .. }))
        .count();
    let skipped = cases
        .iter()
        .filter(|case| matches!(case.outcome, CaseOutcome::Skipped { .. }))
        .count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" id=\"{id}\" package=\"en303645\" hostname=\"provisor\" timestamp=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">",
        x(name),
        x(timestamp),
        cases.len()
    );
    out.push_str("    <properties/>\n");
    for case in cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
            x(&case.class),
            x(&case.name)
        );
        match &case.outcome {
            CaseOutcome::Passed => out.push_str("/>\n"),
            CaseOutcome::Failed { message, detail } => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"FAIL\">{}</failure>\n    </testcase>",
                    x(message),
                    x(detail)
                );
            }
            CaseOutcome::Skipped { message } => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    x(message)
                );
            }
        }
    }
    out.push_str("    <system-out/>\n    <system-err/>\n  </testsuite>\n");
}

/// The JUnit XML of an assessment.
pub fn junit(assessment: &Assessment<'_>, context: &Context) -> String {
    // JUnit's timestamp has no zone: the UTC time without its `Z`.
    let timestamp = context.generated_at.trim_end_matches('Z').to_owned();
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    match assessment.kind {
        Kind::SelfAssessment => {
            for category in &assessment.catalog.categories {
                let class = format!("{} {}", category.id, category.title);
                let cases = assessment
                    .provisions
                    .iter()
                    .filter(|result| result.provision.category == category.id)
                    .map(|result| provision_case(assessment, result, &class))
                    .collect();
                suites.push((class, cases));
            }
        }
        Kind::Lab => {
            for result in &assessment.provisions {
                let mut cases = vec![provision_case(assessment, result, &result.provision.id)];
                cases.extend(test_cases(assessment, result));
                suites.push((
                    format!("{} {}", result.provision.id, {
                        assessment
                            .catalog
                            .category(&result.provision.category)
                            .map_or("", |category| category.title.as_str())
                    }),
                    cases,
                ));
            }
        }
    }
    let all: Vec<&Case> = suites.iter().flat_map(|(_, cases)| cases).collect();
    let failures = all
        .iter()
        .filter(|case| matches!(case.outcome, CaseOutcome::Failed { .. }))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"0\">",
        x(&format!(
            "{}: {}",
            assessment.catalog.short_title,
            device_line(&assessment.device)
        )),
        all.len()
    );
    for (id, (name, cases)) in suites.iter().enumerate() {
        write_suite(&mut out, name, id, &timestamp, cases);
    }
    out.push_str("</testsuites>\n");
    out
}
