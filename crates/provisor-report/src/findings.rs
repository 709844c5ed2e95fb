//! Renderers of a scan's findings (`provisor scan …`): the text summary, the
//! `provisor.findings/2` JSON, and SARIF 2.1.0 with one rule per check.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use provisor_engine::{FindingsFile, Outcome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The findings document as pretty JSON.
pub fn findings_json(findings: &FindingsFile) -> String {
    crate::text::pretty_json(findings)
}

/// The containers a firmware scan opened, as a tree: each under what holds it, with its
/// offset (and its offset in the image when that differs), its size and the files it put
/// into the root filesystem. Empty when the scan opened none.
pub fn container_tree(findings: &FindingsFile) -> String {
    let containers = &findings.containers;
    if containers.is_empty() {
        return String::new();
    }
    let mut out = format!("Containers ({}):\n", containers.len());
    let known: std::collections::HashSet<&str> = containers
        .iter()
        .map(|container| container.chain.as_str())
        .collect();
    // A wrapper's payloads are named after it (`FIT@0x0 > kernel-1`): a container in one
    // hangs under the wrapper, with the payload's name.
    fn placed<'a>(
        container: &'a provisor_engine::Container,
        known: &std::collections::HashSet<&str>,
    ) -> (Option<&'a str>, Option<String>) {
        let Some(mut parent) = container.parent.as_deref() else {
            return (None, None);
        };
        let full = parent;
        while !known.contains(parent) {
            match parent.rsplit_once(" > ") {
                Some((outer, _)) => parent = outer,
                None => return (None, Some(full.to_owned())),
            }
        }
        let part = full
            .strip_prefix(parent)
            .and_then(|rest| rest.strip_prefix(" > "))
            .map(str::to_owned);
        (Some(parent), part)
    }
    let mut children: std::collections::BTreeMap<
        Option<&str>,
        Vec<(&provisor_engine::Container, Option<String>)>,
    > = std::collections::BTreeMap::new();
    for container in containers {
        let (parent, part) = placed(container, &known);
        children.entry(parent).or_default().push((container, part));
    }
    type Children<'a> = std::collections::BTreeMap<
        Option<&'a str>,
        Vec<(&'a provisor_engine::Container, Option<String>)>,
    >;
    fn walk(
        out: &mut String,
        (container, part): (&provisor_engine::Container, Option<String>),
        children: &Children<'_>,
        prefix: &str,
        last: bool,
        depth: usize,
    ) {
        let branch = if depth == 0 {
            ""
        } else if last {
            "└─ "
        } else {
            "├─ "
        };
        let mut line = format!(
            "{prefix}{branch}{} at {:#x}",
            container.format, container.offset
        );
        if let Some(part) = part {
            let _ = write!(line, " in {part}");
        }
        if let Some(image_offset) = container.image_offset
            && image_offset != container.offset
        {
            let _ = write!(line, " (image offset {image_offset:#x})");
        }
        if let Some(size) = container.size {
            let _ = write!(line, ", {size} bytes");
        }
        if container.files > 0 {
            let _ = write!(line, ", {} entries", container.files);
        }
        let _ = writeln!(out, "  {line}");
        let below = children
            .get(&Some(container.chain.as_str()))
            .cloned()
            .unwrap_or_default();
        let deeper = if depth == 0 {
            String::new()
        } else if last {
            format!("{prefix}   ")
        } else {
            format!("{prefix}│  ")
        };
        let count = below.len();
        for (index, child) in below.into_iter().enumerate() {
            walk(out, child, children, &deeper, index + 1 == count, depth + 1);
        }
    }
    for root in children.get(&None).cloned().unwrap_or_default() {
        walk(&mut out, root, &children, "", true, 0);
    }
    out
}

/// A summary for a terminal: failing findings first, then the rest, with locations.
pub fn findings_text(findings: &FindingsFile) -> String {
    let mut out = String::new();
    let bold = Style::new().bold();
    let target = &findings.target;
    let _ = writeln!(
        out,
        "{bold}{}{bold:#} ({} target{})",
        target
            .path
            .as_deref()
            .or(target.host.as_deref())
            .unwrap_or("?"),
        target.kind,
        target
            .size
            .map_or(String::new(), |size| format!(", {size} bytes"))
    );
    if let Some(sha256) = &target.sha256 {
        let _ = writeln!(out, "sha256 {sha256}");
    }
    let mut ordered: Vec<_> = findings.findings.iter().collect();
    ordered.sort_by_key(|finding| (finding.outcome, finding.severity));
    for finding in &ordered {
        let color = match finding.outcome {
            Outcome::Fail => AnsiColor::Red,
            Outcome::Pass => AnsiColor::Green,
            Outcome::Inconclusive => AnsiColor::Yellow,
            Outcome::Info => AnsiColor::BrightBlack,
        };
        let style = Style::new().fg_color(Some(color.into())).bold();
        let _ = writeln!(
            out,
            "\n{style}{:<12}{style:#} {} [{}] {}",
            finding.outcome.as_str().to_uppercase(),
            finding.title,
            finding.severity.as_str(),
            finding.provisions.join(", ")
        );
        let _ = writeln!(
            out,
            "             {}  ({})",
            finding.location, finding.check
        );
    }
    if let Some(summary) = crate::hardening::hardening(&findings.findings) {
        let _ = writeln!(
            out,
            "\n{bold}Exploit mitigations{bold:#} of {} ELF binaries",
            summary.binaries
        );
        for row in &summary.rows {
            let _ = writeln!(out, "  {:<40} {:>6} / {}", row.name, row.have, row.of);
        }
        for (path, missing) in &summary.weakest {
            let _ = writeln!(
                out,
                "  least hardened: {path} (lacks {})",
                missing.join(", ")
            );
        }
    }
    let count = |outcome: Outcome| {
        findings
            .findings
            .iter()
            .filter(|finding| finding.outcome == outcome)
            .count()
    };
    let _ = writeln!(
        out,
        "\n{bold}{} findings{bold:#}: {} fail, {} pass, {} inconclusive, {} info · {} ms",
        findings.findings.len(),
        count(Outcome::Fail),
        count(Outcome::Pass),
        count(Outcome::Inconclusive),
        count(Outcome::Info),
        findings.duration_ms
    );
    out
}

/// SARIF 2.1.0: one rule per check that reported, one result per finding; locations
/// are paths inside the image.
pub fn findings_sarif(findings: &FindingsFile) -> String {
    let mut checks: Vec<&str> = findings.findings.iter().map(|f| f.check.as_str()).collect();
    checks.sort_unstable();
    checks.dedup();
    let rules: Vec<Value> = checks
        .iter()
        .map(|check| json!({"id": check, "shortDescription": {"text": check}}))
        .collect();
    let results: Vec<Value> = findings
        .findings
        .iter()
        .map(|finding| {
            let (kind, level) = match finding.outcome {
                Outcome::Fail => (
                    "fail",
                    match finding.severity {
                        provisor_engine::Severity::Critical | provisor_engine::Severity::High => {
                            "error"
                        }
                        provisor_engine::Severity::Medium => "warning",
                        _ => "note",
                    },
                ),
                Outcome::Pass => ("pass", "none"),
                Outcome::Inconclusive => ("review", "none"),
                Outcome::Info => ("informational", "none"),
            };
            let uri = finding
                .location
                .path
                .as_deref()
                .map(|path| path.trim_start_matches('/').to_owned())
                .or_else(|| finding.location.host.clone())
                .unwrap_or_else(|| ".".to_owned());
            let mut physical = json!({"artifactLocation": {"uri": uri}});
            if let Some(line) = finding.location.line.filter(|&line| line > 0) {
                physical["region"] = json!({"startLine": line});
            }
            json!({
                "ruleId": finding.check,
                "ruleIndex": checks.iter().position(|c| *c == finding.check).unwrap_or(0),
                "kind": kind,
                "level": level,
                "message": {"text": format!("{} ({})", finding.title, finding.provisions.join(", "))},
                "locations": [{"physicalLocation": physical}],
                "partialFingerprints": {"provisorFinding/v1": finding.id},
                "properties": {"provisions": finding.provisions, "severity": finding.severity.as_str()},
            })
        })
        .collect();
    crate::sarif::sarif_log(findings.tool().1, rules, results, json!({}))
}

/// The components of a scan as a CycloneDX 1.5 SBOM (JSON). `timestamp` is RFC 3339.
pub fn sbom_cyclonedx(findings: &FindingsFile, timestamp: &str) -> String {
    let target = &findings.target;
    let name = target
        .path
        .as_deref()
        .map(|path| path.rsplit('/').next().unwrap_or(path).to_owned())
        .or_else(|| target.host.clone())
        .unwrap_or_else(|| "device".to_owned());
    // A serial number stable for the same image and component list.
    let mut seed = Sha256::new();
    seed.update(target.sha256.as_deref().unwrap_or(&name).as_bytes());
    for component in &findings.components {
        seed.update(
            component
                .purl
                .as_deref()
                .unwrap_or(&component.name)
                .as_bytes(),
        );
    }
    let digest = seed.finalize();
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let serial = format!(
        "urn:uuid:{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    );
    let mut subject = json!({"type": "firmware", "bom-ref": "firmware", "name": name});
    if let Some(sha256) = &target.sha256 {
        subject["hashes"] = json!([{"alg": "SHA-256", "content": sha256}]);
    }
    let components: Vec<Value> =
        findings
            .components
            .iter()
            .enumerate()
            .map(|(index, component)| {
                let mut value = json!({
                    "type": if component.name == "linux" { "operating-system" } else { "library" },
                    "bom-ref": format!("component-{index}"),
                    "name": component.name,
                });
                if let Some(version) = &component.version {
                    value["version"] = json!(version);
                }
                if let Some(purl) = &component.purl {
                    value["purl"] = json!(purl);
                }
                if let Some(cpe) = &component.cpe {
                    value["cpe"] = json!(cpe);
                }
                let properties: Vec<Value> =
                    component
                        .locations
                        .iter()
                        .map(|location| json!({"name": "provisor:location", "value": location}))
                        .chain(component.sources.iter().map(
                            |source| json!({"name": "provisor:identified-by", "value": source}),
                        ))
                        .collect();
                if !properties.is_empty() {
                    value["properties"] = json!(properties);
                }
                value
            })
            .collect();
    let bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "provisor", "version": findings.tool().1}]},
            "component": subject,
        },
        "components": components,
    });
    crate::text::pretty_json(&bom)
}
