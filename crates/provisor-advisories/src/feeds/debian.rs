//! The Debian security tracker's JSON (<https://security-tracker.debian.org/tracker/data/json>):
//! source package → issue (`CVE-…`, `TEMP-…`) → release → status. Read one source
//! package at a time; each (issue, package) becomes one advisory, `CVE-…/package`, its
//! CVE id as an alias, with one affected entry per release (`Debian:12`): a resolved
//! issue is affected below its fixed version (`0`: never affected, an entry that
//! matches nothing), an open or undetermined one at every version. Issues the tracker
//! rates `unimportant` (no security impact in Debian) affect nothing. Urgency gives
//! the severity (`high`, `medium`, `low`). The tracker is a whole snapshot: an import
//! withdraws what it no longer lists.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, Visitor};

use super::{Sink, one_line, stream_json};
use crate::{Advisory, Affected, Error, Event, Range};

/// Reads the tracker's JSON (gzip or not), handing each (issue, package) to `sink`.
pub fn read(path: &Path, sink: &mut Sink<'_>) -> Result<(), Error> {
    let reader = super::open(path)?;
    read_from(path, reader, sink)
}

/// Reads the feed from a reader (`place` names it in errors).
pub fn read_from(
    place: &Path,
    reader: impl std::io::Read,
    sink: &mut Sink<'_>,
) -> Result<(), Error> {
    stream_json(place, reader, Packages(sink))
}

struct Packages<'s, 'a>(&'s mut Sink<'a>);

impl<'de> DeserializeSeed<'de> for Packages<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Packages<'_, '_> {
    type Value = ();
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("the Debian security tracker's JSON (source package → issue → release)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(package) = map.next_key::<String>()? {
            let issues: BTreeMap<String, Issue> = map.next_value()?;
            for (id, issue) in issues {
                if let Some(advisory) = advisory(&package, id, issue) {
                    (self.0)(advisory).map_err(serde::de::Error::custom)?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Issue {
    #[serde(default)]
    description: String,
    #[serde(default)]
    releases: BTreeMap<String, Status>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: String,
}

fn advisory(package: &str, id: String, issue: Issue) -> Option<Advisory> {
    let mut severity: Option<&str> = None;
    let mut affected = Vec::new();
    for (codename, status) in &issue.releases {
        let release = crate::debian_codename(codename).unwrap_or(codename);
        let urgency = status.urgency.trim_end_matches('*');
        let mut entry = Affected {
            ecosystem: format!("Debian:{release}"),
            name: package.to_owned(),
            purl: None,
            ranges: Vec::new(),
            versions: Vec::new(),
            cpe: None,
        };
        let introduced = Event {
            introduced: Some("0".to_owned()),
            ..Event::default()
        };
        match (status.status.as_str(), status.fixed_version.as_deref()) {
            _ if urgency == "unimportant" => {}
            ("resolved", Some("0")) | ("resolved", None) => {}
            ("resolved", Some(fixed)) => entry.ranges.push(Range {
                kind: "ECOSYSTEM".to_owned(),
                events: vec![
                    introduced,
                    Event {
                        fixed: Some(fixed.to_owned()),
                        ..Event::default()
                    },
                ],
            }),
            _ => entry.ranges.push(Range {
                kind: "ECOSYSTEM".to_owned(),
                events: vec![introduced],
            }),
        }
        let rank = |rating: &str| ["low", "medium", "high"].iter().position(|r| *r == rating);
        if rank(urgency).is_some() && rank(urgency) > severity.and_then(rank) {
            severity = Some(["low", "medium", "high"][rank(urgency)?]);
        }
        affected.push(entry);
    }
    if affected.is_empty() {
        return None;
    }
    let aliases = if id.starts_with("CVE-") {
        vec![id.clone()]
    } else {
        Vec::new()
    };
    Some(Advisory {
        id: format!("{id}/{package}"),
        aliases,
        summary: one_line(&issue.description),
        score: None,
        severity: severity.map(str::to_owned),
        affected,
        modified: None,
        withdrawn: None,
    })
}
