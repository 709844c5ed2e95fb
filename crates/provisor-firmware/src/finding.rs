//! Collecting findings: each gets a stable id, a content hash of what it says and where,
//! so the same observation has the same id in every run.

use provisor_engine::{Finding, Location, Outcome, Severity};
use sha2::{Digest, Sha256};

/// Where checks put what they observe.
#[derive(Debug, Default)]
pub struct FindingSink {
    findings: Vec<Finding>,
}

/// A finding being described by a check.
pub struct Draft<'a> {
    sink: &'a mut FindingSink,
    finding: Finding,
}

impl FindingSink {
    /// An empty sink.
    pub fn new() -> Self {
        FindingSink::default()
    }

    /// Starts a finding of `check` on `provisions`.
    pub fn add(
        &mut self,
        check: &str,
        provisions: &[&str],
        outcome: Outcome,
        severity: Severity,
        title: impl Into<String>,
    ) -> Draft<'_> {
        Draft {
            sink: self,
            finding: Finding {
                id: String::new(),
                check: check.to_owned(),
                provisions: provisions.iter().map(|id| (*id).to_owned()).collect(),
                outcome,
                severity,
                title: title.into(),
                detail: String::new(),
                location: Location::default(),
                evidence: serde_json::Value::Null,
            },
        }
    }

    /// Everything collected, in the order it was added.
    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    /// Findings so far.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

impl Draft<'_> {
    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.finding.detail = detail.into();
        self
    }

    /// Sets the file (and line) the finding is about.
    pub fn at(mut self, path: &str, line: Option<u64>, container: &str) -> Self {
        self.finding.location.path = Some(path.to_owned());
        self.finding.location.line = line;
        if !container.is_empty() {
            self.finding.location.container = Some(container.to_owned());
        }
        self
    }

    /// Sets redacted evidence.
    pub fn evidence(mut self, evidence: serde_json::Value) -> Self {
        self.finding.evidence = evidence;
        self
    }

    /// Computes the id and records the finding.
    pub fn record(mut self) {
        let mut hasher = Sha256::new();
        for part in [
            self.finding.check.as_str(),
            self.finding.title.as_str(),
            self.finding.location.path.as_deref().unwrap_or(""),
            &self.finding.location.line.unwrap_or(0).to_string(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        self.finding.id = digest[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        if !self
            .sink
            .findings
            .iter()
            .any(|existing| existing.id == self.finding.id)
        {
            self.sink.findings.push(self.finding);
        }
    }
}
