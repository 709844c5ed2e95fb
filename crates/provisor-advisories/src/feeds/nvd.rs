//! NVD's CVE JSON 2.0 feeds (`nvdcve-2.0-2024.json.gz`, `…-modified`, `…-recent`, or
//! an API page: a document whose `vulnerabilities` array holds `{"cve": …}` records),
//! read one record at a time. Each vulnerable CPE match of a CVE's configurations
//! becomes an affected package named by the CPE's vendor and product: a CPE with a
//! version affects that version (its update appended, `1.0.2` and `beta1` giving
//! `1.0.2beta1`); one with `*` affects the range its `versionStart…` and `versionEnd…`
//! bounds give (all versions without bounds). Platform conditions of a configuration
//! (`AND` with a non-vulnerable operating system or device) are not evaluated: the
//! component's CPE alone decides, which errs towards reporting. Hardware CPEs (`h`)
//! are left out. A rejected CVE is withdrawn.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Sink, one_line, stream_json};
use crate::{Advisory, Affected, Error, Event, Range};

/// Reads an NVD feed (gzip or not), handing each CVE to `sink`.
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
    stream_json(place, reader, Document(sink))
}

struct Document<'s, 'a>(&'s mut Sink<'a>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an NVD CVE 2.0 document (an object with `vulnerabilities`)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "vulnerabilities" {
                map.next_value_seed(Records(&mut *self.0))?;
                seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !seen {
            return Err(serde::de::Error::missing_field("vulnerabilities"));
        }
        Ok(())
    }
}

struct Records<'s, 'a>(&'s mut Sink<'a>);

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of `{\"cve\": …}` records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Item>()? {
            (self.0)(Advisory::from(item.cve)).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Item {
    cve: Cve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cve {
    id: String,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    vuln_status: String,
    #[serde(default)]
    descriptions: Vec<Description>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    configurations: Vec<Configuration>,
}

#[derive(Deserialize)]
struct Description {
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    #[serde(default)]
    cvss_metric_v31: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v30: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    #[serde(default, rename = "type")]
    kind: String,
    cvss_data: CvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    base_score: f64,
    #[serde(default)]
    base_severity: String,
}

#[derive(Deserialize)]
struct Configuration {
    #[serde(default)]
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    cpe_match: Vec<CpeMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CpeMatch {
    vulnerable: bool,
    criteria: String,
    #[serde(default)]
    version_start_including: Option<String>,
    #[serde(default)]
    version_start_excluding: Option<String>,
    #[serde(default)]
    version_end_including: Option<String>,
    #[serde(default)]
    version_end_excluding: Option<String>,
}

impl From<Cve> for Advisory {
    fn from(cve: Cve) -> Advisory {
        let metric = cve
            .metrics
            .cvss_metric_v31
            .iter()
            .chain(&cve.metrics.cvss_metric_v30)
            .min_by_key(|metric| metric.kind != "Primary");
        let summary = cve
            .descriptions
            .iter()
            .find(|description| description.lang == "en")
            .or(cve.descriptions.first())
            .map(|description| one_line(&description.value))
            .unwrap_or_default();
        let affected = cve
            .configurations
            .iter()
            .flat_map(|configuration| &configuration.nodes)
            .filter(|node| !node.negate)
            .flat_map(|node| &node.cpe_match)
            .filter(|each| each.vulnerable)
            .filter_map(affected)
            .collect();
        let withdrawn =
            (cve.vuln_status == "Rejected").then(|| cve.last_modified.clone().unwrap_or_default());
        Advisory {
            id: cve.id,
            aliases: Vec::new(),
            summary,
            score: metric.map(|metric| metric.cvss_data.base_score),
            severity: metric
                .map(|metric| metric.cvss_data.base_severity.to_ascii_lowercase())
                .filter(|severity| !severity.is_empty()),
            affected,
            modified: cve.last_modified,
            withdrawn,
        }
    }
}

/// The affected package one vulnerable CPE match names.
fn affected(each: &CpeMatch) -> Option<Affected> {
    let fields: Vec<&str> = each.criteria.strip_prefix("cpe:2.3:")?.split(':').collect();
    let [part, vendor, product, version, update, ..] = fields.as_slice() else {
        return None;
    };
    if !matches!(*part, "a" | "o") {
        return None;
    }
    let cpe = crate::cpe_product(&format!("{vendor}:{product}"))?;
    let mut affected = Affected {
        ecosystem: String::new(),
        name: product.to_string(),
        purl: None,
        ranges: Vec::new(),
        versions: Vec::new(),
        cpe: Some(cpe),
    };
    match *version {
        "-" => return None,
        "*" => {
            let start = Event {
                introduced: match &each.version_start_excluding {
                    Some(_) => None,
                    None => Some(
                        each.version_start_including
                            .clone()
                            .unwrap_or_else(|| "0".to_owned()),
                    ),
                },
                introduced_after: each.version_start_excluding.clone(),
                ..Event::default()
            };
            let mut events = vec![start];
            if let Some(fixed) = &each.version_end_excluding {
                events.push(Event {
                    fixed: Some(fixed.clone()),
                    ..Event::default()
                });
            } else if let Some(last) = &each.version_end_including {
                events.push(Event {
                    last_affected: Some(last.clone()),
                    ..Event::default()
                });
            }
            affected.ranges.push(Range {
                kind: "NVD".to_owned(),
                events,
            });
        }
        exact => {
            let exact = unescape(exact);
            affected.versions.push(match *update {
                "*" | "-" | "" => exact,
                update => format!("{exact}{}", unescape(update)),
            });
        }
    }
    Some(affected)
}

/// A CPE field without its backslash escapes (`1.0\-beta`).
fn unescape(field: &str) -> String {
    field.replace('\\', "")
}
