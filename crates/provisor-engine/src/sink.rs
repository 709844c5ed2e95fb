//! Collecting findings, for the checks of every scanner: each gets a stable id, a content
//! hash of what it says and where, so the same observation has the same id in every run.

use provisor_catalog::ConditionId;
use sha2::{Digest, Sha256};

use crate::finding::{Component, Finding, InferredCondition, Location, Outcome, Severity};

/// Where checks put what they observe.
#[derive(Debug, Default)]
pub struct FindingSink {
    findings: Vec<Finding>,
    /// The ids of `findings`, to keep each once without a search.
    ids: std::collections::HashSet<String>,
    /// A finding with a line by [`weakness_key`], to its place in `findings`: the
    /// first of one weakness, that later lines join.
    weaknesses: std::collections::HashMap<String, usize>,
    components: Vec<Component>,
    inferred: Vec<InferredCondition>,
    /// Counts checks keep of what they examined (not part of the output).
    tallies: std::collections::BTreeMap<&'static str, usize>,
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

    /// Records a component; the same name and version found again adds a location.
    pub fn component(
        &mut self,
        name: &str,
        version: Option<&str>,
        purl: Option<String>,
        location: &str,
    ) {
        self.add_component(Component {
            name: name.to_owned(),
            version: version.map(str::to_owned),
            purl,
            cpe: None,
            source_package: None,
            sources: Vec::new(),
            locations: vec![location.to_owned()],
        });
    }

    /// Records a component described whole; the same name and version found again adds
    /// its locations and sources (and a CPE the first lacked).
    pub fn add_component(&mut self, component: Component) {
        let Some(known) = self
            .components
            .iter_mut()
            .find(|known| known.name == component.name && known.version == component.version)
        else {
            self.components.push(component);
            return;
        };
        for location in component.locations {
            if !known.locations.contains(&location) {
                known.locations.push(location);
            }
        }
        for source in component.sources {
            if !known.sources.contains(&source) {
                known.sources.push(source);
            }
        }
        if known.cpe.is_none() {
            known.cpe = component.cpe;
        }
    }

    /// The components so far, to be rewritten (a check joining what two ways of
    /// identifying found).
    pub fn components_mut(&mut self) -> &mut Vec<Component> {
        &mut self.components
    }

    /// Records a condition answer inferred from evidence, numbered in the checks'
    /// edition (the first inference of a condition wins).
    pub fn infer(&mut self, condition: u32, answer: bool, because: impl Into<String>) {
        self.record_inference(None, &condition.to_string(), answer, because.into());
    }

    /// Records an answer to a condition or feature of another edition, one the checks'
    /// edition has no condition for (V3.1.3's feature q: debug interfaces exist).
    pub fn infer_in(
        &mut self,
        edition: &str,
        condition: &str,
        answer: bool,
        because: impl Into<String>,
    ) {
        self.record_inference(Some(edition), condition, answer, because.into());
    }

    fn record_inference(
        &mut self,
        edition: Option<&str>,
        condition: &str,
        answer: bool,
        because: String,
    ) {
        let condition = ConditionId::new(condition);
        if self
            .inferred
            .iter()
            .all(|known| known.condition != condition || known.edition.as_deref() != edition)
        {
            self.inferred.push(InferredCondition {
                edition: edition.map(str::to_owned),
                condition,
                answer,
                because,
            });
        }
    }

    /// Adds to a check's count of things examined.
    pub fn tally(&mut self, key: &'static str, count: usize) {
        *self.tallies.entry(key).or_default() += count;
    }

    /// A check's count of things examined.
    pub fn tally_of(&self, key: &str) -> usize {
        self.tallies.get(key).copied().unwrap_or(0)
    }

    /// Takes in what another sink collected (the per-file sinks of the shared pass).
    pub fn merge(&mut self, other: FindingSink) {
        for (key, count) in other.tallies {
            self.tally(key, count);
        }
        for finding in other.findings {
            self.push(finding);
        }
        for component in other.components {
            self.add_component(component);
        }
        for inferred in other.inferred {
            if self.inferred.iter().all(|known| {
                known.condition != inferred.condition || known.edition != inferred.edition
            }) {
                self.inferred.push(inferred);
            }
        }
    }

    /// Removes and returns the findings that match (a check turning per-file findings
    /// into one summary).
    pub fn take_where(&mut self, predicate: impl Fn(&Finding) -> bool) -> Vec<Finding> {
        let (taken, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|finding| predicate(finding));
        self.ids.clear();
        self.weaknesses.clear();
        for finding in kept {
            self.push(finding);
        }
        taken
    }

    /// Components so far.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// Everything collected: findings, components and inferred conditions.
    pub fn finish(self) -> (Vec<Finding>, Vec<Component>, Vec<InferredCondition>) {
        (self.findings, self.components, self.inferred)
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

    /// Sets the network service the finding is about (`host:port`, transport, and the
    /// service identified there, if any).
    pub fn on(mut self, host: &str, port: u16, transport: &str, service: Option<&str>) -> Self {
        self.finding.location.host = Some(host.to_owned());
        self.finding.location.port = Some(port);
        self.finding.location.transport = Some(transport.to_owned());
        self.finding.location.service = service.map(str::to_owned);
        self
    }

    /// Sets the host the finding is about, for findings on the host as a whole.
    pub fn on_host(mut self, host: &str) -> Self {
        self.finding.location.host = Some(host.to_owned());
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
        let location = &self.finding.location;
        for part in [
            self.finding.check.as_str(),
            self.finding.title.as_str(),
            location.path.as_deref().unwrap_or(""),
            &location.line.unwrap_or(0).to_string(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        // Network locations only add to the hash, so firmware findings keep their ids.
        if let Some(host) = &location.host {
            let port = location.port.unwrap_or(0).to_string();
            for part in [
                host.as_str(),
                &port,
                location.transport.as_deref().unwrap_or(""),
            ] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
        }
        let digest = hasher.finalize();
        self.finding.id = digest[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        self.sink.push(self.finding);
    }
}

impl FindingSink {
    /// Keeps a finding once: the same id is the same observation, and the same check
    /// saying the same thing about the same place on another line (of the same secret,
    /// when the evidence has a fingerprint) is the same weakness,
    /// so the line joins the first finding's `lines` evidence instead of making a second
    /// finding (a person reads each weakness once, and triage accepts it once).
    fn push(&mut self, finding: Finding) {
        if self.ids.contains(&finding.id) {
            return;
        }
        let Some(line) = finding.location.line else {
            self.ids.insert(finding.id.clone());
            self.findings.push(finding);
            return;
        };
        let key = weakness_key(&finding);
        match self.weaknesses.get(&key) {
            Some(&at) => add_line(&mut self.findings[at], line, &finding.evidence),
            None => {
                self.weaknesses.insert(key, self.findings.len());
                self.ids.insert(finding.id.clone());
                self.findings.push(finding);
            }
        }
    }
}

/// What makes two findings on lines one weakness: the same check saying the same thing
/// (with the same outcome, and of the same secret when the evidence has a fingerprint:
/// two keys are two weaknesses) about the same place but for the line.
fn weakness_key(finding: &Finding) -> String {
    let place = Location {
        line: None,
        ..finding.location.clone()
    };
    format!(
        "{}\u{0}{}\u{0}{:?}\u{0}{}\u{0}{}",
        finding.check,
        finding.title,
        finding.outcome,
        finding
            .evidence
            .get("fingerprint")
            .map(ToString::to_string)
            .unwrap_or_default(),
        serde_json::to_string(&place).unwrap_or_default()
    )
}

/// Adds `line` to a finding's `lines` evidence (which starts with its own line), and any
/// evidence of that line that differs from what the finding already holds.
fn add_line(finding: &mut Finding, line: u64, evidence: &serde_json::Value) {
    let first = finding.location.line.unwrap_or(line);
    let mut object = match std::mem::take(&mut finding.evidence) {
        serde_json::Value::Object(object) => object,
        serde_json::Value::Null => serde_json::Map::new(),
        other => serde_json::Map::from_iter([("value".to_owned(), other)]),
    };
    let lines = object
        .entry("lines")
        .or_insert_with(|| serde_json::json!([first]));
    if let Some(lines) = lines.as_array_mut()
        && !lines.iter().any(|known| known.as_u64() == Some(line))
    {
        lines.push(line.into());
    }
    if let serde_json::Value::Object(more) = evidence {
        for (key, value) in more {
            match object.get(key) {
                Some(known) if known == value => {}
                None => {
                    object.insert(key.clone(), value.clone());
                }
                Some(_) => {
                    let key = format!("{key} (line {line})");
                    object.insert(key, value.clone());
                }
            }
        }
    }
    finding.evidence = serde_json::Value::Object(object);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(sink: &mut FindingSink, path: &str, line: u64, title: &str) {
        sink.add(
            "firmware.ssh-config",
            &["5.1-1"],
            Outcome::Fail,
            Severity::High,
            title,
        )
        .at(path, Some(line), "squashfs@0x0")
        .evidence(serde_json::json!({"daemon": "dropbear"}))
        .record();
    }

    #[test]
    fn one_weakness_on_many_lines_is_one_finding_listing_them() {
        let mut sink = FindingSink::new();
        let title = "dropbear is started accepting password logins";
        for line in [12, 14, 12, 20] {
            started(&mut sink, "/etc/init.d/dropbear", line, title);
        }
        started(&mut sink, "/etc/init.d/other", 3, title);
        started(
            &mut sink,
            "/etc/init.d/dropbear",
            30,
            "dropbear allows root logins",
        );
        let findings = sink.findings();
        assert_eq!(findings.len(), 3, "{findings:#?}");
        assert_eq!(findings[0].location.line, Some(12));
        assert_eq!(
            findings[0].evidence,
            serde_json::json!({"daemon": "dropbear", "lines": [12, 14, 20]})
        );
        assert_eq!(
            findings[1].evidence,
            serde_json::json!({"daemon": "dropbear"})
        );
    }

    /// Findings taken out are forgotten (the same one may come again), and those kept
    /// still gather their weakness's later lines.
    #[test]
    fn what_is_taken_out_may_come_again_and_what_stays_still_folds() {
        let mut sink = FindingSink::new();
        started(&mut sink, "/etc/rc.local", 2, "telnet started");
        started(&mut sink, "/etc/inittab", 5, "a shell on the console");
        let taken = sink.take_where(|finding| finding.title == "a shell on the console");
        assert_eq!(taken.len(), 1);
        started(&mut sink, "/etc/rc.local", 7, "telnet started");
        started(&mut sink, "/etc/inittab", 5, "a shell on the console");
        let findings = sink.findings();
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert_eq!(findings[0].evidence["lines"], serde_json::json!([2, 7]));
        assert_eq!(findings[1].location.path.as_deref(), Some("/etc/inittab"));
    }

    #[test]
    fn sinks_merged_from_the_shared_pass_fold_the_same_weakness() {
        let mut first = FindingSink::new();
        let mut second = FindingSink::new();
        started(&mut first, "/etc/rc.local", 2, "telnet started");
        started(&mut second, "/etc/rc.local", 9, "telnet started");
        first.merge(second);
        assert_eq!(first.findings().len(), 1);
        assert_eq!(
            first.findings()[0].evidence["lines"],
            serde_json::json!([2, 9])
        );
    }
}
