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
    /// The manufacturer's postal address, for a statement of compliance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_address: Option<String>,
    /// The batch (or serial range, or production period) a statement of compliance
    /// covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// The last day of the defined support period, `YYYY-MM-DD`: security updates are
    /// provided until then at least. A TOML date or a string.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_or_text"
    )]
    pub support_period_end: Option<String>,
}

/// A date written as a TOML date (`2030-12-31`) or as text (`"2030-12-31"`).
fn date_or_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateOrText {
        Text(String),
        Date(toml::value::Datetime),
    }
    Ok(Some(match DateOrText::deserialize(deserializer)? {
        DateOrText::Text(text) => text,
        DateOrText::Date(date) => date.to_string(),
    }))
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
    /// A declared answer carried from an earlier release's assessment that nobody has
    /// confirmed yet (`carried = true`): it counts, and an approval waits for it.
    pub carried: bool,
}

impl ConditionAnswer {
    /// A declared answer without a note.
    pub fn declared(answer: bool) -> Self {
        ConditionAnswer {
            answer,
            note: None,
            source: AnswerSource::Declared,
            carried: false,
        }
    }
}
