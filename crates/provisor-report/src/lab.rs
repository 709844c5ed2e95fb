//! What every report says of a lab assessment and of triage, in words shared by the
//! HTML, Markdown, PDF and JUnit renderers: a test case's line, the IXIT tables still
//! missing, the acceptances, the evidence register's numbering, and the review.

use provisor_engine::{Applicability, Assessment, TestResult, TestState};

/// `5.1-1-2 functional: PROPOSED PASS (net.default-credentials)` and its details.
pub(crate) fn test_line(assessment: &Assessment<'_>, test: &TestResult<'_>) -> String {
    let mut line = format!(
        "{} {}: {}",
        test.case.display_id(),
        test.case.kind.as_str(),
        test.state.label()
    );
    let mut details = Vec::new();
    if let Some(record) = &test.record {
        if let Some(assessor) = &record.assessor {
            details.push(assessor.clone());
        }
        if let Some(date) = record.date {
            details.push(date.to_string());
        }
    }
    if let Some(proposal) = &test.proposal {
        let checks: Vec<&str> = proposal
            .findings
            .iter()
            .map(|&index| assessment.findings[index].check.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let word = if matches!(test.state, TestState::Proposed(_)) {
            "proposed by"
        } else {
            "scans proposed"
        };
        details.push(format!(
            "{word} {}{}",
            if word == "scans proposed" {
                format!("{} from ", proposal.verdict.label())
            } else {
                String::new()
            },
            checks.join(", ")
        ));
    }
    if test.overridden
        && let Some(reason) = test
            .record
            .as_ref()
            .and_then(|r| r.override_reason.as_ref())
    {
        details.push(format!("overridden: {reason}"));
    }
    if !test.missing_ixit.is_empty() && !matches!(test.state, TestState::Pass | TestState::Fail) {
        details.push(format!("IXIT {} missing", test.missing_ixit.join(", ")));
    }
    if !details.is_empty() {
        line.push_str(&format!(" ({})", details.join("; ")));
    }
    line
}

/// The method an assessor recorded, if any.
pub(crate) fn test_method<'a>(test: &'a TestResult<'_>) -> Option<&'a str> {
    test.record
        .as_ref()
        .map(|record| record.method.as_str())
        .filter(|method| !method.is_empty())
}

/// IXIT tables that applicable provisions need and that have no entry, each with the
/// provisions that need it.
pub(crate) fn ixit_gaps(assessment: &Assessment<'_>) -> Vec<(String, Vec<String>)> {
    let mut gaps: Vec<(String, Vec<String>)> = Vec::new();
    for result in &assessment.provisions {
        if result.applicability != Applicability::Applies {
            continue;
        }
        for table in &result.provision.ixit {
            if assessment.ixit.iter().any(|entry| &entry.table == table) {
                continue;
            }
            match gaps.iter_mut().find(|(id, _)| id == table) {
                Some((_, provisions)) => provisions.push(result.provision.id.clone()),
                None => gaps.push((table.clone(), vec![result.provision.id.clone()])),
            }
        }
    }
    gaps.sort_by_key(|(table, _)| {
        table
            .split('-')
            .next()
            .and_then(|number| number.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    });
    gaps
}

/// Counts of test case states over applicable provisions, in a fixed order.
pub(crate) fn test_counts(assessment: &Assessment<'_>) -> Vec<(&'static str, usize)> {
    let order = [
        "PASS",
        "FAIL",
        "PROPOSED PASS",
        "PROPOSED FAIL",
        "DISPUTED",
        "INCONCLUSIVE",
        "NOT RUN",
    ];
    let mut counts: Vec<(&'static str, usize)> = order.iter().map(|label| (*label, 0)).collect();
    for (result, test) in assessment.test_results() {
        if result.applicability != Applicability::Applies {
            continue;
        }
        if let Some(entry) = counts
            .iter_mut()
            .find(|(label, _)| *label == test.state.label())
        {
            entry.1 += 1;
        }
    }
    counts
}

/// The evidence register's number of an evidence file (`E-001`): scans first, then
/// evidence files, in the order the register lists them.
pub(crate) fn evidence_number(position: usize) -> String {
    format!("E-{:03}", position + 1)
}

/// The review in one sentence.
pub(crate) fn review_words(review: &provisor_engine::Review) -> String {
    let mut words = format!(
        "Report {} revision {}, assessed by {}",
        review.report_id, review.revision, review.assessor
    );
    match (&review.reviewer, review.decision) {
        (Some(reviewer), Some(decision)) => {
            words.push_str(&format!("; {decision} by {reviewer}"));
        }
        (Some(reviewer), None) => {
            words.push_str(&format!("; reviewer {reviewer}, no decision yet"))
        }
        (None, _) => words.push_str("; not reviewed yet"),
    }
    if let Some(date) = review.date {
        words.push_str(&format!(" on {date}"));
    }
    words
}

/// The decision rule a report prints: the five rules, then the lab's step for a lab
/// assessment, and triage's rule wherever findings were accepted.
/// The rules name the derived provision as the assessment's edition numbers it (4-1 in
/// V2.1.1, 5.0-1 in V3.1.3).
pub(crate) fn rules(assessment: &Assessment<'_>) -> Vec<String> {
    let mut rules: Vec<&'static str> = provisor_engine::DECISION_RULE.to_vec();
    if assessment.kind == provisor_engine::Kind::Lab {
        rules.push(provisor_engine::LAB_RULE[0]);
    }
    if assessment.kind == provisor_engine::Kind::Lab || !assessment.acceptances.is_empty() {
        rules.push(provisor_engine::LAB_RULE[1]);
    }
    let derived = assessment.catalog.derived_id();
    let features = assessment.catalog.features().next().is_some();
    rules
        .into_iter()
        .map(|rule| {
            let rule = rule.replace("4-1", derived);
            if features {
                rule.replacen("A condition of", "A condition or feature of", 1)
                    .replacen("an unanswered condition", "an unanswered one", 1)
            } else {
                rule
            }
        })
        .collect()
}

/// What is left to do on an OPEN provision: its reasons without the statement and the
/// corroborations, which did not decide it.
pub(crate) fn left_to_do<'a>(result: &'a provisor_engine::ProvisionResult<'_>) -> Vec<&'a str> {
    result
        .reasons
        .iter()
        .map(String::as_str)
        .filter(|reason| {
            !reason.starts_with("the statement says") && !reason.starts_with("corroborated by")
        })
        .collect()
}

/// An acceptance's last day in words: `2027-05-31`, `2027-05-31 (expired)` or `no expiry`.
pub(crate) fn until_words(state: &provisor_engine::AcceptanceState) -> String {
    match (state.acceptance.until, state.expired) {
        (Some(until), true) => format!("{until} (expired)"),
        (Some(until), false) => until.to_string(),
        (None, _) => "no expiry".into(),
    }
}

/// Whether a report shows the IXIT and its gaps: for a lab assessment, or wherever IXIT
/// entries are recorded.
pub(crate) fn shows_ixit(assessment: &Assessment<'_>) -> bool {
    assessment.kind == provisor_engine::Kind::Lab || !assessment.ixit.is_empty()
}

/// What cites an evidence file, in words: `5.1-1, 5.1-2, test case 5.1-1-1`.
pub(crate) fn cited_by(evidence: &provisor_engine::EvidenceFile) -> String {
    evidence
        .provisions
        .iter()
        .cloned()
        .chain(
            evidence
                .tests
                .iter()
                .map(|test| format!("test case {test}")),
        )
        .collect::<Vec<_>>()
        .join(", ")
}
