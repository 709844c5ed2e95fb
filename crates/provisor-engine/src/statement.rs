//! The manufacturer's statements: one ICS entry per provision.

use std::fmt;

/// Whether the manufacturer supports a provision (the ICS "Support" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// The provision is met.
    Yes,
    /// The provision is not met.
    No,
    /// The provision does not apply to the device.
    NotApplicable,
}

impl Support {
    /// Parses the assessment-file spelling: `yes`, `no`, `not-applicable`.
    pub fn parse(text: &str) -> Option<Support> {
        match text {
            "yes" => Some(Support::Yes),
            "no" => Some(Support::No),
            "not-applicable" => Some(Support::NotApplicable),
            _ => None,
        }
    }

    /// The assessment-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Support::Yes => "yes",
            Support::No => "no",
            Support::NotApplicable => "not-applicable",
        }
    }

    /// The Annex B spelling: `Y`, `N`, `N/A`.
    pub fn ics(self) -> &'static str {
        match self {
            Support::Yes => "Y",
            Support::No => "N",
            Support::NotApplicable => "N/A",
        }
    }
}

impl fmt::Display for Support {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One ICS entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Supported, not supported, or not applicable.
    pub support: Support,
    /// How the provision is met, or why not, or why it does not apply.
    pub detail: String,
    /// Paths (relative to the assessment file) or URLs of supporting evidence.
    pub evidence: Vec<String>,
    /// The provision of the previous edition the statement was carried from by
    /// `provisor migrate`, until someone confirms it (by removing the mark).
    pub carried: Option<String>,
    /// The line of the statement in the assessment file, when it came from one.
    pub line: Option<u32>,
}

impl Statement {
    /// A statement with a detail and no evidence.
    pub fn new(support: Support, detail: impl Into<String>) -> Self {
        Statement {
            support,
            detail: detail.into(),
            evidence: Vec::new(),
            carried: None,
            line: None,
        }
    }

    /// Whether the detail records a justification.
    pub fn is_justified(&self) -> bool {
        !self.detail.trim().is_empty()
    }
}
