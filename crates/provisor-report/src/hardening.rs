//! The exploit-mitigation summary of a firmware scan: how many of the image's ELF
//! binaries have each mitigation, and which binaries have the fewest, drawn from the
//! per-binary table the `firmware.binary-hardening` check puts in its summary finding.

use provisor_engine::Finding;
use serde_json::Value;

/// The check whose summary finding holds the table.
const CHECK: &str = "firmware.binary-hardening";

/// One mitigation: its name, how many binaries have it, and out of how many.
pub(crate) struct Row {
    pub name: &'static str,
    pub have: usize,
    pub of: usize,
}

/// The summary: a row per mitigation and the least hardened binaries with what they
/// lack (an executable stack first).
pub(crate) struct Hardening {
    pub binaries: usize,
    pub rows: Vec<Row>,
    pub weakest: Vec<(String, Vec<&'static str>)>,
}

/// Binaries named as least hardened.
const WEAKEST: usize = 5;

/// The summary of the scan's findings, when the check ran and found binaries.
pub(crate) fn hardening(findings: &[Finding]) -> Option<Hardening> {
    let table = findings
        .iter()
        .find(|finding| finding.check == CHECK && finding.evidence.get("binaries").is_some())?
        .evidence["binaries"]
        .as_array()?;
    if table.is_empty() {
        return None;
    }
    let executable = |binary: &Value| binary["shared_library"] != true;
    // What a binary lacks, in the order of the rows; PIE only matters for executables.
    let lacks = |binary: &Value| -> Vec<&'static str> {
        let mut missing = Vec::new();
        if binary["nx"] == false {
            missing.push("NX");
        }
        if executable(binary) && binary["pie"] == false {
            missing.push("PIE");
        }
        if binary["relro"] != "full" {
            missing.push("full RELRO");
        }
        if binary["canary"] == false {
            missing.push("canary");
        }
        if binary["fortify"] == false {
            missing.push("FORTIFY");
        }
        if binary["rpath"] == true {
            missing.push("no RPATH");
        }
        missing
    };
    let count = |test: &dyn Fn(&Value) -> bool| table.iter().filter(|binary| test(binary)).count();
    let executables = count(&executable);
    let rows = vec![
        Row {
            name: "non-executable stack (NX)",
            have: count(&|binary| binary["nx"] == true),
            of: table.len(),
        },
        Row {
            name: "position-independent executable (PIE)",
            have: count(&|binary| executable(binary) && binary["pie"] == true),
            of: executables,
        },
        Row {
            name: "full RELRO",
            have: count(&|binary| binary["relro"] == "full"),
            of: table.len(),
        },
        Row {
            name: "stack canary",
            have: count(&|binary| binary["canary"] == true),
            of: table.len(),
        },
        Row {
            name: "FORTIFY_SOURCE",
            have: count(&|binary| binary["fortify"] == true),
            of: table.len(),
        },
        Row {
            name: "no RPATH/RUNPATH",
            have: count(&|binary| binary["rpath"] == false),
            of: table.len(),
        },
    ];
    let mut weakest: Vec<(String, Vec<&'static str>)> = table
        .iter()
        .map(|binary| {
            let path = binary["path"].as_str().unwrap_or("?").to_owned();
            (path, lacks(binary))
        })
        .filter(|(_, missing)| !missing.is_empty())
        .collect();
    // An executable stack first (it is the one that fails), then by how much is lacking.
    weakest.sort_by_key(|(path, missing)| {
        (
            !missing.contains(&"NX"),
            std::cmp::Reverse(missing.len()),
            path.clone(),
        )
    });
    weakest.truncate(WEAKEST);
    Some(Hardening {
        binaries: table.len(),
        rows,
        weakest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(binaries: Value) -> Finding {
        serde_json::from_value(serde_json::json!({
            "id": "x", "check": CHECK, "provisions": ["5.6-8"], "outcome": "info",
            "severity": "info", "title": "exploit mitigations",
            "evidence": {"binaries": binaries}
        }))
        .unwrap()
    }

    #[test]
    fn counts_each_mitigation_and_names_the_weakest() {
        let findings = [finding(serde_json::json!([
            {"path": "/bin/busybox", "nx": true, "pie": false, "relro": "partial", "canary": false, "fortify": false, "rpath": false, "shared_library": false},
            {"path": "/usr/sbin/dropbear", "nx": true, "pie": true, "relro": "full", "canary": true, "fortify": true, "rpath": false, "shared_library": false},
            {"path": "/lib/libc.so", "nx": true, "pie": false, "relro": "full", "canary": true, "fortify": false, "rpath": true, "shared_library": true},
            {"path": "/usr/sbin/camd", "nx": false, "pie": true, "relro": "full", "canary": true, "fortify": true, "rpath": false, "shared_library": false},
        ]))];
        let summary = hardening(&findings).unwrap();
        assert_eq!(summary.binaries, 4);
        let counts: Vec<(usize, usize)> =
            summary.rows.iter().map(|row| (row.have, row.of)).collect();
        assert_eq!(counts, [(3, 4), (2, 3), (3, 4), (3, 4), (2, 4), (3, 4)]);
        assert_eq!(
            summary.weakest,
            [
                ("/usr/sbin/camd".to_owned(), vec!["NX"]),
                (
                    "/bin/busybox".to_owned(),
                    vec!["PIE", "full RELRO", "canary", "FORTIFY"]
                ),
                ("/lib/libc.so".to_owned(), vec!["FORTIFY", "no RPATH"]),
            ]
        );
        assert!(hardening(&[]).is_none());
    }
}
