//! The device profile: identification and the answers to the conditions.

use serde::{Deserialize, Serialize};

/// What identifies the device under assessment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Manufacturer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// Model designation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Hardware version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_version: Option<String>,
    /// Firmware version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// SHA-256 of the firmware image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_sha256: Option<String>,
    /// A sentence on what the device is and does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Device {
    /// `Acme SmartCam C200 3.2.1`, or `unnamed device`.
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [&self.manufacturer, &self.model]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if parts.is_empty() {
            "unnamed device".to_owned()
        } else {
            parts.join(" ")
        }
    }
}

/// Where an answer to a condition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerSource {
    /// The manufacturer stated it.
    Declared,
    /// It follows from other answers through a relation of the model.
    Implied {
        /// The condition it follows from.
        from: provisor_catalog::ConditionId,
        /// The relation, in words.
        relation: String,
    },
    /// An automated check inferred it from evidence.
    Inferred {
        /// The evidence, in words.
        because: String,
    },
}

impl AnswerSource {
    /// `declared`, `implied` or `inferred`.
    pub fn label(&self) -> &'static str {
        match self {
            AnswerSource::Declared => "declared",
            AnswerSource::Implied { .. } => "implied",
            AnswerSource::Inferred { .. } => "inferred",
        }
    }
}

/// An answer to one condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionAnswer {
    /// Whether the condition holds.
    pub answer: bool,
    /// The manufacturer's note.
    pub note: Option<String>,
    /// Where the answer came from.
    pub source: AnswerSource,
}

impl ConditionAnswer {
    /// A declared answer without a note.
    pub fn declared(answer: bool) -> Self {
        ConditionAnswer {
            answer,
            note: None,
            source: AnswerSource::Declared,
        }
    }
}
