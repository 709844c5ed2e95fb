//! What a Yocto (OpenEmbedded) build says of its recipes' CVEs: the `CVE_STATUS`
//! flags of recipes, bbappends and configuration files (with `CVE_STATUS_GROUPS`, and
//! the older `CVE_CHECK_IGNORE` and `CVE_CHECK_WHITELIST`), the CVE ids in the names of
//! the patches a recipe's `SRC_URI` applies, and the JSON summary the `cve-check`
//! class writes (`cve-summary.json`, `<recipe>_cve.json`). Each becomes a [`Status`]
//! with its place (file and line, or JSON path) and the recipe it is about; [`verdict`]
//! says what it means in CycloneDX's VEX vocabulary, following the status map of
//! Yocto's `cve-check-map.conf` (`backported-patch` → patched, `cpe-incorrect` →
//! ignored, …).

use serde::Deserialize;

pub use crate::cyclonedx::Unread;
use crate::cyclonedx::cve_ids;

/// The most statuses read from one file.
pub const MAX_STATUSES: usize = 100_000;

/// One CVE's status for a recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Where it is (`openssl_3.0.8.bb:14`, `package[2].issue[5]`).
    pub place: String,
    /// The recipe it is about; none for a configuration file that names no recipe.
    pub recipe: Option<String>,
    /// The CVE id.
    pub vulnerability: String,
    /// Yocto's reason: `backported-patch`, `cpe-incorrect`, `not-applicable-config`,
    /// …; `patched` for a patch named for the CVE, `ignored` for `CVE_CHECK_IGNORE`.
    pub reason: String,
    /// What the build's author wrote after the reason, or what says so.
    pub detail: String,
}

/// A status in CycloneDX's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The analysis state.
    pub state: &'static str,
    /// Its justification.
    pub justification: Option<&'static str>,
    /// Its response.
    pub response: Option<&'static str>,
    /// Whether a fix is in the build (a backport), rather than a statement about
    /// the vulnerability.
    pub backport: bool,
}

/// What a status means: `Err` with why when it decides nothing (`unpatched` is a
/// match, not a decision) or is unknown.
pub fn verdict(reason: &str) -> Result<Verdict, String> {
    let verdict = |state, justification, response, backport| Verdict {
        state,
        justification,
        response,
        backport,
    };
    Ok(match reason {
        "backported-patch" | "cpe-stable-backport" | "patched" | "installed" => {
            verdict("resolved", None, None, true)
        }
        "fixed-version" | "cpe-incorrect" | "disputed" => {
            verdict("false_positive", None, None, false)
        }
        "not-applicable-config" => verdict("not_affected", Some("code_not_present"), None, false),
        "not-applicable-platform" => {
            verdict("not_affected", Some("requires_environment"), None, false)
        }
        "ignored" => verdict("not_affected", None, None, false),
        "upstream-wontfix" => verdict("exploitable", None, Some("will_not_fix"), false),
        "unpatched" | "vulnerable-investigating" => {
            return Err(format!(
                "Yocto reports it {reason}: a match for somebody to analyse, not a decision"
            ));
        }
        other => {
            return Err(format!(
                "\"{other}\" is not one of the CVE_STATUS reasons of Yocto's cve-check-map.conf"
            ));
        }
    })
}

/// The recipe a BitBake file is about, from its name: `openssl_3.0.8.bb`,
/// `openssl_%.bbappend`, `openssl.inc` → `openssl`; none for a `.conf` file.
pub fn recipe_of(file: &str) -> Option<String> {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = name
        .strip_suffix(".bbappend")
        .or_else(|| name.strip_suffix(".bb"))
        .or_else(|| name.strip_suffix(".inc"))?;
    let recipe = stem.split('_').next().unwrap_or(stem);
    (!recipe.is_empty()).then(|| recipe.to_owned())
}

/// One assignment: `NAME[:override…][FLAG] OP "VALUE"`.
struct Assignment<'a> {
    name: &'a str,
    recipe: Option<&'a str>,
    flag: Option<&'a str>,
    value: String,
}

fn assignment(line: &str) -> Option<Assignment<'_>> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    // The operator: `=` with up to two of `?:+.` before it (`??=`, `:=`, `+=`, `.=`),
    // or one of `+.` after it (`=+`, `=.`).
    let equals = line.find('=')?;
    let bytes = line.as_bytes();
    let mut left_end = equals;
    while left_end > 0
        && equals - left_end < 2
        && matches!(bytes[left_end - 1], b'?' | b':' | b'+' | b'.')
    {
        left_end -= 1;
    }
    let mut rest = &line[equals + 1..];
    if let Some(after) = rest.strip_prefix(['+', '.']) {
        rest = after;
    }
    let left = &line[..left_end];
    let rest = rest.trim();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = rest[1..].strip_suffix(quote)?;
    let left = left.trim();
    let (target, flag) = match left.split_once('[') {
        Some((target, flag)) => (target, Some(flag.strip_suffix(']')?)),
        None => (left, None),
    };
    let mut parts = target.split(':');
    let name = parts.next()?;
    let mut recipe = None;
    for part in parts {
        if let Some(pn) = part.strip_prefix("pn-") {
            recipe = Some(pn);
        }
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    Some(Assignment {
        name,
        recipe,
        flag,
        value: value.to_owned(),
    })
}

/// Splits `"reason: detail"`.
fn reason_and_detail(value: &str) -> (String, String) {
    match value.split_once(':') {
        Some((reason, detail)) => (reason.trim().to_owned(), detail.trim().to_owned()),
        None => (value.trim().to_owned(), String::new()),
    }
}

/// Reads a BitBake file (a recipe, a bbappend, an include or a configuration file)
/// named `file`: the statuses it sets, and the lines that name CVE statuses it could
/// not read.
pub fn read_bitbake(file: &str, text: &str) -> (Vec<Status>, Vec<Unread>) {
    let recipe = recipe_of(file);
    let mut statuses: Vec<Status> = Vec::new();
    let mut unread: Vec<Unread> = Vec::new();
    // Groups: name → (place, CVE ids, reason and detail).
    let mut group_names: Vec<String> = Vec::new();
    let mut groups: std::collections::HashMap<String, (String, Vec<String>, Option<String>)> =
        std::collections::HashMap::new();
    let mut logical = String::new();
    let mut first_line = 0;
    for (number, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            first_line = number + 1;
        }
        if let Some(continued) = raw.strip_suffix('\\') {
            logical.push_str(continued);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let line = std::mem::take(&mut logical);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if statuses.len() >= MAX_STATUSES {
            unread.push(Unread {
                place: format!("{file}:{first_line}"),
                reason: format!("more than {MAX_STATUSES} statuses: the rest were not read"),
            });
            break;
        }
        let place = format!("{file}:{first_line}");
        let Some(set) = assignment(trimmed) else {
            if trimmed.contains("CVE_STATUS") || trimmed.contains("CVE_CHECK_IGNORE") {
                unread.push(Unread {
                    place,
                    reason: "not an assignment BitBake reads (NAME[FLAG] = \"VALUE\")".to_owned(),
                });
            }
            continue;
        };
        let about = set.recipe.map(str::to_owned).or_else(|| recipe.clone());
        match (set.name, set.flag) {
            ("CVE_STATUS", Some(id)) => {
                if cve_ids(id).len() != 1 {
                    unread.push(Unread {
                        place,
                        reason: format!("\"{id}\" is not a CVE id"),
                    });
                    continue;
                }
                let (reason, detail) = reason_and_detail(&set.value);
                statuses.push(Status {
                    place,
                    recipe: about,
                    vulnerability: id.trim().to_ascii_uppercase(),
                    reason,
                    detail,
                });
            }
            ("CVE_STATUS_GROUPS", None) => {
                group_names.extend(set.value.split_whitespace().map(str::to_owned));
            }
            ("CVE_CHECK_IGNORE" | "CVE_CHECK_WHITELIST", None) => {
                for id in set.value.split_whitespace() {
                    statuses.push(Status {
                        place: place.clone(),
                        recipe: about.clone(),
                        vulnerability: id.to_ascii_uppercase(),
                        reason: "ignored".to_owned(),
                        detail: format!("listed in {}", set.name),
                    });
                }
            }
            ("SRC_URI", None) => {
                for entry in set.value.split_whitespace() {
                    let Some(path) = entry.strip_prefix("file://") else {
                        continue;
                    };
                    let path = path.split(';').next().unwrap_or(path);
                    let name = path.rsplit('/').next().unwrap_or(path);
                    if !(name.ends_with(".patch") || name.ends_with(".diff")) {
                        continue;
                    }
                    for id in cve_ids(name) {
                        statuses.push(Status {
                            place: place.clone(),
                            recipe: about.clone(),
                            vulnerability: id,
                            reason: "patched".to_owned(),
                            detail: format!("the recipe applies {name}"),
                        });
                    }
                }
            }
            (name, flag) => {
                let entry = groups
                    .entry(name.to_owned())
                    .or_insert_with(|| (place.clone(), Vec::new(), None));
                match flag {
                    Some("status") => entry.2 = Some(set.value.clone()),
                    None => entry.1.extend(
                        set.value
                            .split_whitespace()
                            .filter(|id| cve_ids(id).len() == 1)
                            .map(str::to_ascii_uppercase),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    for name in group_names {
        let Some((place, ids, status)) = groups.remove(&name) else {
            unread.push(Unread {
                place: file.to_owned(),
                reason: format!("CVE_STATUS_GROUPS names {name}, which the file does not set"),
            });
            continue;
        };
        let Some(status) = status else {
            unread.push(Unread {
                place,
                reason: format!("{name} has no [status] flag"),
            });
            continue;
        };
        let (reason, detail) = reason_and_detail(&status);
        for id in ids {
            statuses.push(Status {
                place: place.clone(),
                recipe: recipe.clone(),
                vulnerability: id,
                reason: reason.clone(),
                detail: detail.clone(),
            });
        }
    }
    (statuses, unread)
}

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    #[serde(default)]
    issue: Vec<Issue>,
}

#[derive(Deserialize)]
struct Issue {
    id: String,
    status: String,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// Whether a JSON document is the `cve-check` class's summary (a `package` array, no
/// `bomFormat`), read without building its tree.
pub fn is_cve_check(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        package: Option<Vec<serde::de::IgnoredAny>>,
        #[serde(rename = "bomFormat")]
        bom_format: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(bytes)
        .is_ok_and(|probe| probe.package.is_some() && probe.bom_format.is_none())
}

/// Reads the `cve-check` class's JSON summary. Yocto's `Patched` and `Ignored`
/// issues become statuses with their reason (`detail`, present since Yocto 4.3; the
/// status alone before); `Unpatched` ones are matches, not decisions, and are left out.
pub fn read_cve_check(bytes: &[u8]) -> Result<Vec<Status>, String> {
    let summary: Summary = serde_json::from_slice(bytes).map_err(|error| {
        format!(
            "it is not the JSON summary of Yocto's cve-check: {error} (line {}, column {})",
            error.line(),
            error.column()
        )
    })?;
    let mut statuses = Vec::new();
    for (at, package) in summary.package.iter().enumerate() {
        for (index, issue) in package.issue.iter().enumerate() {
            if statuses.len() == MAX_STATUSES {
                return Ok(statuses);
            }
            let reason = match (issue.status.as_str(), issue.detail.as_deref()) {
                ("Unpatched", _) => continue,
                (_, Some(detail)) if !detail.is_empty() => detail.to_owned(),
                ("Patched", _) => "patched".to_owned(),
                ("Ignored", _) => "ignored".to_owned(),
                (other, _) => other.to_ascii_lowercase(),
            };
            statuses.push(Status {
                place: format!("package[{at}].issue[{index}]"),
                recipe: Some(package.name.clone()),
                vulnerability: issue.id.to_ascii_uppercase(),
                reason,
                detail: issue.description.clone().unwrap_or_default(),
            });
        }
    }
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_are_named_by_their_files() {
        for (file, recipe) in [
            (
                "meta/recipes-connectivity/openssl/openssl_3.0.8.bb",
                Some("openssl"),
            ),
            ("openssl_%.bbappend", Some("openssl")),
            ("busybox.inc", Some("busybox")),
            (
                "conf/distro/include/cve-extra-exclusions.inc",
                Some("cve-extra-exclusions"),
            ),
            ("conf/local.conf", None),
        ] {
            assert_eq!(recipe_of(file).as_deref(), recipe, "{file}");
        }
    }

    #[test]
    fn every_reason_of_the_status_map_has_a_verdict() {
        for reason in [
            "backported-patch",
            "cpe-stable-backport",
            "fixed-version",
            "cpe-incorrect",
            "disputed",
            "not-applicable-config",
            "not-applicable-platform",
            "ignored",
            "upstream-wontfix",
        ] {
            assert!(verdict(reason).is_ok(), "{reason}");
        }
        assert!(verdict("unpatched").unwrap_err().contains("not a decision"));
        assert!(verdict("fixed").unwrap_err().contains("cve-check-map.conf"));
    }

    fn data(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/vex")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn a_bbappend_says_its_statuses_patches_groups_and_ignores() {
        let (statuses, unread) =
            read_bitbake("openssl_3.0.8.bbappend", &data("openssl_3.0.8.bbappend"));
        let read: Vec<(&str, &str, &str)> = statuses
            .iter()
            .map(|status| {
                (
                    status.place.as_str(),
                    status.vulnerability.as_str(),
                    status.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                ("openssl_3.0.8.bbappend:4", "CVE-2023-0464", "patched"),
                ("openssl_3.0.8.bbappend:4", "CVE-2023-0465", "patched"),
                (
                    "openssl_3.0.8.bbappend:10",
                    "CVE-2023-2650",
                    "backported-patch"
                ),
                (
                    "openssl_3.0.8.bbappend:11",
                    "CVE-2023-1255",
                    "not-applicable-platform"
                ),
                (
                    "openssl_3.0.8.bbappend:12",
                    "CVE-2023-3446",
                    "not-applicable-config"
                ),
                (
                    "openssl_3.0.8.bbappend:13",
                    "CVE-2023-3817",
                    "cpe-incorrect"
                ),
                ("openssl_3.0.8.bbappend:14", "CVE-2023-9999", "unpatched"),
                ("openssl_3.0.8.bbappend:21", "CVE-2022-1343", "ignored"),
                (
                    "openssl_3.0.8.bbappend:18",
                    "CVE-2023-6129",
                    "not-applicable-platform"
                ),
                (
                    "openssl_3.0.8.bbappend:18",
                    "CVE-2024-0727",
                    "not-applicable-platform"
                ),
            ]
        );
        assert!(
            statuses
                .iter()
                .all(|status| status.recipe.as_deref() == Some("openssl"))
        );
        assert_eq!(
            statuses[2].detail,
            "the OBJ_obj2txt fix is in 0004-asn1.patch from 3.0.9"
        );
        assert_eq!(
            statuses[0].detail,
            "the recipe applies 0001-CVE-2023-0464-x509-excessive-resource-use.patch"
        );
        assert_eq!(statuses[8].detail, "Windows and PowerPC only");
        assert_eq!(unread.len(), 1, "{unread:?}");
        assert_eq!(unread[0].place, "openssl_3.0.8.bbappend:15");
        assert!(unread[0].reason.contains("\"not-a-cve\" is not a CVE id"));
    }

    #[test]
    fn the_cve_check_summary_gives_patched_and_ignored_issues() {
        assert!(is_cve_check(data("cve-summary.json").as_bytes()));
        assert!(!is_cve_check(
            br#"{"bomFormat": "CycloneDX", "package": []}"#
        ));
        let statuses = read_cve_check(data("cve-summary.json").as_bytes()).unwrap();
        let read: Vec<(&str, &str, &str)> = statuses
            .iter()
            .map(|status| {
                (
                    status.recipe.as_deref().unwrap(),
                    status.vulnerability.as_str(),
                    status.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                ("busybox", "CVE-2022-28391", "backported-patch"),
                ("busybox", "CVE-2021-42380", "not-applicable-config"),
                ("dropbear", "CVE-2023-48795", "patched"),
            ]
        );
        assert_eq!(statuses[1].place, "package[0].issue[2]");
        assert!(read_cve_check(b"[1, 2]").unwrap_err().contains("cve-check"));
    }
}
