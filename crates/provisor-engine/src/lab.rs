//! What a lab assessment (ETSI TS 103 701) adds to a self-assessment: the kind of
//! assessment, the record of each test case run, the acceptances of findings made in
//! triage, and the calendar date all of them are dated by. The decision rule that reads
//! them is in `verdict.rs`; the file syntax in `file.rs`.

use std::fmt;

use crate::finding::Finding;

/// Which decision rule an assessment follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The manufacturer's own assessment: statements and findings decide (rules 1–5).
    #[default]
    SelfAssessment,
    /// A conformance assessment as TS 103 701 prescribes it: test cases decide too
    /// (rule 6).
    Lab,
}

impl Kind {
    /// The file spelling: `self-assessment` or `lab`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SelfAssessment => "self-assessment",
            Kind::Lab => "lab",
        }
    }

    /// Parses the file spelling.
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "self-assessment" => Some(Kind::SelfAssessment),
            "lab" => Some(Kind::Lab),
            _ => None,
        }
    }

    /// How a report names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::SelfAssessment => "self-assessment",
            Kind::Lab => "conformance assessment (ETSI TS 103 701)",
        }
    }
}

/// A calendar date (`2026-11-29`), as test cases, acceptances and reviews are dated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date, when it exists in the proleptic Gregorian calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year >= 1 && (1..=days).contains(&day)).then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10
            || bytes[4] != b'-'
            || bytes[7] != b'-'
            || !text
                .char_indices()
                .all(|(index, c)| index == 4 || index == 7 || c.is_ascii_digit())
        {
            return None;
        }
        Date::new(
            text[0..4].parse().ok()?,
            text[5..7].parse().ok()?,
            text[8..10].parse().ok()?,
        )
    }

    /// The date of a number of seconds since the Unix epoch (UTC).
    pub fn from_unix_seconds(seconds: u64) -> Date {
        // Howard Hinnant's days-to-civil algorithm.
        let days = (seconds / 86_400) as i64 + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u8;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        } as u8;
        let year = (year_of_era + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{:04}-{:02}-{:02}",
            self.year, self.month, self.day
        )
    }
}

/// The recorded outcome of a test case. TS 103 701 knows only PASS and FAIL; the other
/// two are workflow states that keep the provision OPEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TestVerdict {
    /// The test case passed.
    Pass,
    /// The test case failed.
    Fail,
    /// Run, but the result could not be decided.
    Inconclusive,
    /// Planned, not run yet.
    NotRun,
}

impl TestVerdict {
    /// The file spelling: `pass`, `fail`, `inconclusive`, `not-run`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestVerdict::Pass => "pass",
            TestVerdict::Fail => "fail",
            TestVerdict::Inconclusive => "inconclusive",
            TestVerdict::NotRun => "not-run",
        }
    }

    /// The report spelling: `PASS`, `NOT RUN`, …
    pub fn label(self) -> &'static str {
        match self {
            TestVerdict::Pass => "PASS",
            TestVerdict::Fail => "FAIL",
            TestVerdict::Inconclusive => "INCONCLUSIVE",
            TestVerdict::NotRun => "NOT RUN",
        }
    }

    /// Parses the file spelling.
    pub fn parse(text: &str) -> Option<TestVerdict> {
        [
            TestVerdict::Pass,
            TestVerdict::Fail,
            TestVerdict::Inconclusive,
            TestVerdict::NotRun,
        ]
        .into_iter()
        .find(|verdict| verdict.as_str() == text)
    }
}

impl fmt::Display for TestVerdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.label())
    }
}

/// What an assessor recorded of one test case (`[test."5.1-1-2"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRecord {
    /// The test case id (`5.1-1-2`).
    pub id: String,
    /// Its outcome.
    pub verdict: TestVerdict,
    /// Who ran it.
    pub assessor: Option<String>,
    /// When.
    pub date: Option<Date>,
    /// How: the method, the set-up, what was looked at.
    pub method: String,
    /// Evidence files (relative to the assessment) or URLs.
    pub evidence: Vec<String>,
    /// Ids of findings the assessor relied on.
    pub findings: Vec<String>,
    /// Why the verdict differs from what the automated evidence proposed.
    pub override_reason: Option<String>,
    /// The test case of the previous test specification the record was carried from by
    /// `provisor migrate`, until an assessor confirms it (by removing the mark).
    pub carried: Option<String>,
    /// The line of the record in the assessment file, when it came from one.
    pub line: Option<u32>,
}

impl TestRecord {
    /// A record with a verdict and nothing else.
    pub fn new(id: impl Into<String>, verdict: TestVerdict) -> Self {
        TestRecord {
            id: id.into(),
            verdict,
            assessor: None,
            date: None,
            method: String::new(),
            evidence: Vec::new(),
            findings: Vec::new(),
            override_reason: None,
            carried: None,
            line: None,
        }
    }
}

/// Why a finding is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcceptanceKind {
    /// The check is wrong about the device.
    FalsePositive,
    /// The check is right, and the risk is accepted.
    AcceptedRisk,
}

impl AcceptanceKind {
    /// The file spelling: `false-positive` or `accepted-risk`.
    pub fn as_str(self) -> &'static str {
        match self {
            AcceptanceKind::FalsePositive => "false-positive",
            AcceptanceKind::AcceptedRisk => "accepted-risk",
        }
    }

    /// The report spelling.
    pub fn label(self) -> &'static str {
        match self {
            AcceptanceKind::FalsePositive => "false positive",
            AcceptanceKind::AcceptedRisk => "accepted risk",
        }
    }

    /// Parses the file spelling.
    pub fn parse(text: &str) -> Option<AcceptanceKind> {
        match text {
            "false-positive" => Some(AcceptanceKind::FalsePositive),
            "accepted-risk" => Some(AcceptanceKind::AcceptedRisk),
            _ => None,
        }
    }
}

/// Which findings an acceptance covers: one by its id, or every finding of a check at a
/// place (a file, a host, a port), so that an acceptance survives a rescan that changes
/// an id's inputs elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The finding with this id.
    Finding(String),
    /// Findings of this check, narrowed by the location fields given.
    Check {
        /// The check id (`firmware.default-password`).
        check: String,
        /// The file inside the image.
        path: Option<String>,
        /// The host of a network finding.
        host: Option<String>,
        /// Its port.
        port: Option<u16>,
    },
}

impl Selector {
    /// Whether the selector covers a finding.
    pub fn matches(&self, finding: &Finding) -> bool {
        match self {
            Selector::Finding(id) => &finding.id == id,
            Selector::Check {
                check,
                path,
                host,
                port,
            } => {
                &finding.check == check
                    && path
                        .as_ref()
                        .is_none_or(|path| finding.location.path.as_ref() == Some(path))
                    && host
                        .as_ref()
                        .is_none_or(|host| finding.location.host.as_ref() == Some(host))
                    && port.is_none_or(|port| finding.location.port == Some(port))
            }
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Finding(id) => write!(formatter, "finding {id}"),
            Selector::Check {
                check,
                path,
                host,
                port,
            } => {
                write!(formatter, "check {check}")?;
                if let Some(path) = path {
                    write!(formatter, " at {path}")?;
                }
                match (host, port) {
                    (Some(host), Some(port)) => write!(formatter, " on {host}:{port}"),
                    (Some(host), None) => write!(formatter, " on {host}"),
                    (None, Some(port)) => write!(formatter, " on port {port}"),
                    (None, None) => Ok(()),
                }
            }
        }
    }
}

/// A finding accepted in triage (`[[accept]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// The findings it covers.
    pub selector: Selector,
    /// False positive or accepted risk.
    pub kind: AcceptanceKind,
    /// Why.
    pub reason: String,
    /// Who accepted it.
    pub by: String,
    /// The last day it holds; it holds for good when absent.
    pub until: Option<Date>,
    /// The line of the entry in the assessment file, when it came from one.
    pub line: Option<u32>,
}

impl Acceptance {
    /// Whether the acceptance has expired by `as_of` (it holds through its `until`
    /// day). Without a date to judge by, nothing has expired.
    pub fn expired(&self, as_of: Option<Date>) -> bool {
        matches!((self.until, as_of), (Some(until), Some(today)) if today > until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_against_the_calendar() {
        assert_eq!(Date::parse("2026-11-29").unwrap().to_string(), "2026-11-29");
        assert!(Date::parse("2024-02-29").is_some());
        for wrong in [
            "2026-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-00-10",
            "26-11-29",
            "2026/11/29",
            "2026-1-29x",
            "２026-11-29",
            "",
        ] {
            assert!(Date::parse(wrong).is_none(), "{wrong}");
        }
        assert!(Date::parse("2026-01-31").unwrap() < Date::parse("2026-02-01").unwrap());
    }

    #[test]
    fn unix_seconds_become_the_utc_date() {
        assert_eq!(Date::from_unix_seconds(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_unix_seconds(951_782_400).to_string(),
            "2000-02-29"
        );
        assert_eq!(
            Date::from_unix_seconds(1_795_996_799).to_string(),
            "2026-11-29"
        );
    }

    #[test]
    fn an_acceptance_holds_through_its_last_day() {
        let acceptance = Acceptance {
            selector: Selector::Finding("x".into()),
            kind: AcceptanceKind::AcceptedRisk,
            reason: "r".into(),
            by: "b".into(),
            until: Date::parse("2026-11-29"),
            line: None,
        };
        assert!(!acceptance.expired(Date::parse("2026-11-29")));
        assert!(acceptance.expired(Date::parse("2026-11-30")));
        assert!(!acceptance.expired(None));
    }
}
