//! IXIT entries: the implementation extra information for testing that a manufacturer
//! gives a lab (`[[ixit."1-AuthMech"]]` in the assessment file), held against the
//! edition's IXIT tables. Field lists are indicative, so an unknown field is kept and
//! warned about; a known field must have its type. Secrets are never stored: a field
//! that holds one is a reference to an environment variable or to a key of a separate
//! secrets file, which bundles and reports leave out.

use std::collections::BTreeMap;
use std::fmt;

use provisor_catalog::{Catalog, FieldType};

use crate::error::{Invalid, Subject};

/// Where a secret is kept instead of the assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable (`{ env = "CAMERA_ADMIN_PASSWORD" }`).
    Env(String),
    /// A key of a TOML secrets file beside the assessment
    /// (`{ file = "secrets.toml", key = "camera.admin" }`).
    File {
        /// The secrets file, relative to the assessment.
        file: String,
        /// The key in it (dotted for nested tables).
        key: String,
    },
}

impl fmt::Display for SecretRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(variable) => write!(formatter, "secret in ${variable}"),
            SecretRef::File { file, key } => write!(formatter, "secret {key} in {file}"),
        }
    }
}

/// The value of one IXIT field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IxitValue {
    /// Text.
    Text(String),
    /// true or false.
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// A list of texts.
    List(Vec<String>),
    /// A reference to a secret.
    Secret(SecretRef),
}

impl IxitValue {
    /// The type the value has.
    pub fn kind(&self) -> FieldType {
        match self {
            IxitValue::Text(_) => FieldType::Text,
            IxitValue::Boolean(_) => FieldType::Boolean,
            IxitValue::Integer(_) => FieldType::Integer,
            IxitValue::List(_) => FieldType::List,
            IxitValue::Secret(_) => FieldType::Secret,
        }
    }

    /// The text of a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            IxitValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The number of an integer value.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            IxitValue::Integer(number) => Some(*number),
            _ => None,
        }
    }
}

impl fmt::Display for IxitValue {
    /// How every output shows a value: secrets by their reference, never a value.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IxitValue::Text(text) => formatter.write_str(text),
            IxitValue::Boolean(value) => write!(formatter, "{}", if *value { "yes" } else { "no" }),
            IxitValue::Integer(number) => write!(formatter, "{number}"),
            IxitValue::List(items) => formatter.write_str(&items.join(", ")),
            IxitValue::Secret(reference) => write!(formatter, "({reference})"),
        }
    }
}

/// One entry of an IXIT table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IxitEntry {
    /// The table (`1-AuthMech`).
    pub table: String,
    /// Its position among the table's entries, from 0.
    pub index: usize,
    /// The fields, by name (`id` included when given).
    pub fields: BTreeMap<String, IxitValue>,
    /// The line of the entry in the assessment file, when it came from one.
    pub line: Option<u32>,
}

impl IxitEntry {
    /// The entry's id, or its table and position (`15-Intf #2`).
    pub fn name(&self) -> String {
        match self.fields.get("id") {
            Some(IxitValue::Text(id)) => id.clone(),
            _ => format!("{} #{}", self.table, self.index + 1),
        }
    }

    /// A text field.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(IxitValue::as_text)
    }
}

/// Field names that hold a secret wherever they appear, known table or not.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passphrase",
    "passwd",
    "secret",
    "token",
    "private_key",
    "psk",
    "api_key",
    "pin",
];

/// Whether a field name says it holds a secret (`password`, `admin_password`, `wifi_psk`).
pub fn names_a_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|secret| {
        name == *secret
            || name.ends_with(&format!("_{secret}"))
            || name.starts_with(&format!("{secret}_"))
    })
}

/// Holds the entries against the edition's tables: errors for what cannot stand (an
/// unknown table, a value of the wrong type, a secret written inline), warnings for
/// unknown fields.
pub(crate) fn check_entries(
    catalog: &Catalog,
    entries: &[IxitEntry],
    warnings: &mut Vec<crate::Warning>,
) -> Vec<Invalid> {
    let mut invalid = Vec::new();
    for entry in entries {
        let entry_subject = Subject::Ixit(entry.table.clone(), entry.index, None);
        let Some(table) = catalog.ixit_table(&entry.table) else {
            let known: Vec<&str> = catalog.ixit.iter().map(|table| table.id.as_str()).collect();
            invalid.push(Invalid {
                subject: entry_subject,
                message: format!("unknown IXIT table \"{}\" in {}", entry.table, catalog.id),
                help: format!(
                    "the tables of {} are {}",
                    catalog.test_specification,
                    known.join(", ")
                ),
            });
            continue;
        };
        for (name, value) in &entry.fields {
            let subject = Subject::Ixit(entry.table.clone(), entry.index, Some(name.clone()));
            let expected = if name == "id" {
                Some(FieldType::Text)
            } else {
                table.field(name).map(|field| field.kind)
            };
            // A known field has its type; an unknown one holds a secret when its name says
            // so and its value is text.
            let secret = expected == Some(FieldType::Secret)
                || (expected.is_none()
                    && names_a_secret(name)
                    && matches!(
                        value,
                        IxitValue::Text(_) | IxitValue::List(_) | IxitValue::Secret(_)
                    ));
            if secret && !matches!(value, IxitValue::Secret(_)) {
                invalid.push(Invalid {
                    subject,
                    message: format!(
                        "IXIT {} field {name} holds a secret written inline; secrets are never stored in the assessment",
                        entry.table
                    ),
                    help: format!(
                        "write {name} = {{ env = \"VARIABLE\" }} and set the variable when you run provisor, or {name} = {{ file = \"secrets.toml\", key = \"…\" }} with a secrets file that bundles leave out"
                    ),
                });
                continue;
            }
            match expected {
                None => warnings.push(crate::Warning {
                    subject,
                    message: format!(
                        "IXIT {} has no known field {name}; it is kept as written",
                        entry.table
                    ),
                    help: Some(format!(
                        "the known fields of {} are {}",
                        table.id,
                        table
                            .fields
                            .iter()
                            .map(|field| field.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }),
                Some(kind) if kind != value.kind() && !secret => invalid.push(Invalid {
                    subject,
                    message: format!(
                        "IXIT {} field {name} must be {}, not {}",
                        entry.table,
                        article(kind),
                        article(value.kind())
                    ),
                    help: match kind {
                        FieldType::Boolean => format!("write {name} = true or false"),
                        FieldType::Integer => format!("write {name} = 443 (a number, no quotes)"),
                        FieldType::List => format!("write {name} = [\"…\", \"…\"]"),
                        _ => format!("write {name} = \"…\""),
                    },
                }),
                Some(_) => {}
            }
        }
    }
    invalid
}

fn article(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Text => "text",
        FieldType::Boolean => "true or false",
        FieldType::Integer => "a number",
        FieldType::List => "a list",
        FieldType::Secret => "a secret reference",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_told_apart_from_ordinary_ones() {
        for secret in [
            "password",
            "admin_password",
            "wifi_psk",
            "api_key",
            "token",
            "pin_code",
        ] {
            assert!(names_a_secret(secret), "{secret}");
        }
        for ordinary in [
            "description",
            "passwordless",
            "tokens_issued",
            "spinner",
            "user",
            "port",
        ] {
            assert!(!names_a_secret(ordinary), "{ordinary}");
        }
    }
}
