//! The test plan of a lab assessment (TS 103 701): every test case of every provision
//! that applies, its kind, the IXIT tables it needs, what is missing before it can run,
//! and which automated checks bear on it. Built from a judged [`Assessment`].

use provisor_catalog::{Provision, TestCase, TestKind};

use crate::assessment::{Applicability, Assessment, TestState};
use crate::finding::Outcome;
use crate::statement::Support;

/// One test case of the plan.
#[derive(Debug, Clone)]
pub struct PlanItem<'c> {
    /// The provision it belongs to.
    pub provision: &'c Provision,
    /// The test case.
    pub case: &'c TestCase,
    /// Where it stands.
    pub state: TestState,
    /// The IXIT tables its test group uses.
    pub ixit: Vec<String>,
    /// What is missing before it can run (empty: it can run).
    pub missing: Vec<String>,
    /// The automated checks that inform it (functional test cases).
    pub checks: Vec<String>,
    /// Indices into [`Assessment::findings`] of the findings of those checks on its
    /// provision.
    pub findings: Vec<usize>,
}

/// The plan of an assessment judged as a lab assessment; empty for a self-assessment
/// (judge it with `kind` set to lab to plan it).
pub fn plan<'c>(assessment: &Assessment<'c>) -> Vec<PlanItem<'c>> {
    let catalog = assessment.catalog;
    let mut items = Vec::new();
    for result in &assessment.provisions {
        if result.applicability != Applicability::Applies {
            continue;
        }
        let provision = result.provision;
        for test in &result.tests {
            let case = test.case;
            let mut missing = Vec::new();
            if case.kind != TestKind::Functional {
                match &result.statement {
                    None if provision.derived.is_none() => {
                        missing.push(format!("the ICS statement on {}", provision.id))
                    }
                    Some(statement)
                        if statement.support != Support::Yes && !statement.is_justified() =>
                    {
                        missing.push(format!(
                            "a justification in the ICS detail of {}",
                            provision.id
                        ))
                    }
                    _ => {}
                }
            }
            for table in &test.missing_ixit {
                missing.push(format!("an IXIT {table} entry"));
            }
            let checks: Vec<String> = catalog
                .check_tests
                .iter()
                .filter(|entry| entry.test_cases.contains(&case.id))
                .map(|entry| entry.check.clone())
                .collect();
            let findings: Vec<usize> = result
                .findings
                .iter()
                .copied()
                .filter(|&index| {
                    let finding = &assessment.findings[index];
                    checks.contains(&finding.check) && finding.outcome != Outcome::Info
                })
                .collect();
            if !checks.is_empty()
                && !result
                    .findings
                    .iter()
                    .any(|&index| checks.contains(&assessment.findings[index].check))
                && assessment.scans.is_empty()
            {
                missing
                    .push("a scan of the device (`provisor scan firmware` or `scan host`)".into());
            }
            items.push(PlanItem {
                provision,
                case,
                state: test.state,
                ixit: provision.ixit.clone(),
                missing,
                checks,
                findings,
            });
        }
    }
    items
}
