//! The interfaces an assessment's IXIT declares (15-Intf entries with a port, in TS 103
//! 701 V1.1.1), turned into what `scan host` holds open ports against, with their
//! known-good credentials read from where the IXIT points: an environment variable or a
//! key of a secrets file beside the assessment. Secrets are read here, at the edge, and
//! never written anywhere.

use std::path::Path;

use provisor_engine::{IxitValue, SecretRef};

use crate::{Failure, io};

/// The IXIT tables whose entries describe network interfaces.
const INTERFACE_TABLES: &[&str] = &["15-Intf", "15-PhyIntf", "28-LogIntf"];

/// The declared interfaces of the assessment at `path`.
pub fn of_assessment(path: &Path) -> Result<provisor_net::Ixit, Failure> {
    let file = io::parse_assessment(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut interfaces = Vec::new();
    for entry in file
        .ixit
        .iter()
        .filter(|entry| INTERFACE_TABLES.contains(&entry.table.as_str()))
    {
        let Some(port) = entry.fields.get("port") else {
            continue;
        };
        let place = format!(
            "{}:{}: IXIT {} entry {}",
            path.display(),
            entry.line.unwrap_or(1),
            entry.table,
            entry.name()
        );
        let port = port
            .as_integer()
            .and_then(|port| u16::try_from(port).ok())
            .filter(|&port| port > 0)
            .ok_or_else(|| {
                Failure::Invalid(format!("{place}: port must be a number from 1 to 65535"))
            })?;
        let transport = entry
            .text("transport")
            .unwrap_or("tcp")
            .to_ascii_lowercase();
        if transport != "tcp" && transport != "udp" {
            return Err(Failure::Invalid(format!(
                "{place}: transport is \"{transport}\"; write tcp or udp"
            )));
        }
        let user = entry.text("user").map(str::to_owned);
        let password = entry
            .fields
            .get("password")
            .map(|value| secret(value, &base, &place))
            .transpose()?;
        if user.is_some() != password.is_some() {
            return Err(Failure::Invalid(format!(
                "{place}: give both user and password (a reference), or neither"
            )));
        }
        interfaces.push(provisor_net::ixit::Interface {
            name: entry
                .text("description")
                .map(str::to_owned)
                .unwrap_or_else(|| entry.name()),
            port,
            transport,
            service: entry.text("service").map(str::to_owned),
            user,
            password,
        });
    }
    Ok(provisor_net::Ixit { interfaces })
}

/// The value a secret reference points to.
fn secret(value: &IxitValue, base: &Path, place: &str) -> Result<String, Failure> {
    let IxitValue::Secret(reference) = value else {
        return Err(Failure::Invalid(format!(
            "{place}: password must be a reference, {{ env = \"VARIABLE\" }} or {{ file = \"secrets.toml\", key = \"…\" }}"
        )));
    };
    match reference {
        SecretRef::Env(variable) => std::env::var(variable).map_err(|_| {
            Failure::Invalid(format!(
                "{place}: the password is in ${variable}, which is not set\n  = help: export {variable}=… before the scan"
            ))
        }),
        SecretRef::File { file, key } => {
            let path = base.join(file);
            let text = io::read_text(&path)?;
            let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
                Failure::Invalid(format!(
                    "{}: not a TOML secrets file: {}",
                    path.display(),
                    error.message()
                ))
            })?;
            let mut current = toml::Value::Table(table);
            for part in key.split('.') {
                current = current
                    .get(part)
                    .cloned()
                    .ok_or_else(|| missing_key(&path, key))?;
            }
            current
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| missing_key(&path, key))
        }
    }
}

fn missing_key(path: &Path, key: &str) -> Failure {
    Failure::Invalid(format!(
        "{}: has no text value at {key}\n  = help: write {key} = \"…\" (dotted keys are nested tables)",
        path.display()
    ))
}
