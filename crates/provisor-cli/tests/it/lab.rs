//! Lab assessments from the command line: the test plan, triage with acceptances that a
//! scan honours, concurrent writers of one assessment, and the lab's bad input.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{provisor, stdout_of};

/// The SHA-512-crypt hash of "admin", one of the well-known default passwords.
const ADMIN_HASH: &str = "$6$provisorsalt$aAED/x6RSDPeMSPsI1E.9slObiDNvE1El4f4brVpB2KA6jY41axv5KPq6D8tt1mFhpJ/b8MxApr0UCR297QD7/";

/// A tiny extracted root filesystem whose root account has the password "admin".
fn weak_root(directory: &Path, name: &str) -> PathBuf {
    let root = directory.join(name);
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(
        root.join("etc/shadow"),
        format!("root:{ADMIN_HASH}:19000:0:99999:7:::\n"),
    )
    .unwrap();
    root
}

const LAB: &str = r#"edition = "en303645-v2.1.1"
kind = "lab"

[device]
manufacturer = "Acme"
model = "Plug P1"

[conditions]
1 = true
2 = false

[provision."5.1-1"]
support = "yes"
detail = "the user sets the password during setup"

[test."5.1-1-1"]
verdict = "pass"
assessor = "A. Assessor"
date = 2026-11-02
method = "reviewed the IXIT and the setup flow"

[[ixit."1-AuthMech"]]
id = "AuthMech-1"
description = "web console login"
password_based = true
"#;

#[test]
fn the_plan_lists_every_test_case_with_what_it_needs() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("lab.toml");
    fs::write(&assessment, LAB).unwrap();
    let table = stdout_of(provisor().arg("plan").arg(&assessment));
    assert!(
        table.contains("5.1-1-1    conceptual            PASS"),
        "{table}"
    );
    assert!(
        table.contains("5.1-1-2    functional            NOT RUN"),
        "{table}"
    );
    assert!(
        table.contains("needs the ICS statement on 5.2-1, an IXIT 2-UserInfo entry"),
        "{table}"
    );

    let json: serde_json::Value = serde_json::from_str(&stdout_of(
        provisor()
            .arg("plan")
            .arg(&assessment)
            .args(["--format", "json"]),
    ))
    .unwrap();
    assert_eq!(json["schema"], "provisor.plan/1");
    let cases = json["test_cases"].as_array().unwrap();
    let ids: Vec<&str> = cases
        .iter()
        .map(|case| case["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"5.1-1-2") && !ids.contains(&"5.1-2-1"),
        "5.1-2 does not apply: {ids:?}"
    );
    let functional = cases.iter().find(|case| case["id"] == "5.1-1-2").unwrap();
    assert!(
        functional["checks"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("net.default-credentials"))
    );
    assert_eq!(json["summary"]["total"], cases.len());

    let csv = stdout_of(
        provisor()
            .arg("plan")
            .arg(&assessment)
            .args(["--format", "csv"]),
    );
    assert_eq!(csv.lines().count(), cases.len() + 1);
    assert!(csv.starts_with("Test case,Provision,Status,Kind,State,"));
    let output = directory.path().join("plan.md");
    provisor()
        .arg("plan")
        .arg(&assessment)
        .args(["--format", "md", "-o"])
        .arg(&output)
        .assert()
        .success();
    let markdown = fs::read_to_string(&output).unwrap();
    assert!(
        markdown.contains("| 5.1-1-1 | 5.1-1 (M) | conceptual | PASS |"),
        "{markdown}"
    );
}

#[test]
fn an_accepted_finding_stops_failing_the_scan_and_the_provision() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("lab.toml");
    fs::write(&assessment, LAB).unwrap();
    let root = weak_root(directory.path(), "rootfs");
    let scan = || {
        provisor()
            .args(["scan", "firmware"])
            .arg(&root)
            .args(["--format", "json", "--assessment"])
            .arg(&assessment)
            .output()
            .unwrap()
    };
    assert_eq!(scan().status.code(), Some(1));
    let check = || {
        let output = provisor()
            .arg("check")
            .arg(&assessment)
            .args(["--format", "json"])
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let json = check();
    let provision = &json["provisions"][1];
    assert_eq!(provision["verdict"], "fail");
    assert_eq!(provision["tests"][1]["state"], "proposed-fail");
    let finding = provision["findings"][0].as_str().unwrap().to_owned();

    let listing = stdout_of(provisor().arg("triage").arg(&assessment));
    assert!(listing.contains(&finding), "{listing}");
    assert!(listing.contains("firmware.default-password"), "{listing}");
    let stubs = stdout_of(provisor().arg("triage").arg(&assessment).arg("--stubs"));
    assert!(
        stubs.contains(&format!("finding = \"{finding}\"")),
        "{stubs}"
    );

    provisor()
        .arg("triage")
        .arg(&assessment)
        .args(["--accept", &finding[..6], "--kind", "false-positive"])
        .args([
            "--reason",
            "the root account is locked at first boot",
            "--by",
            "A. Assessor",
        ])
        .args(["--until", "2027-06-30"])
        .assert()
        .success();
    let source = fs::read_to_string(&assessment).unwrap();
    assert!(
        source.contains(&format!("finding = \"{finding}\"")),
        "{source}"
    );
    assert!(source.contains("until = 2027-06-30"), "{source}");

    // The scan now fails only on findings not accepted: none.
    let output = scan();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 failing finding is accepted"));
    let json = check();
    let provision = &json["provisions"][1];
    assert_eq!(provision["verdict"], "open");
    assert_eq!(provision["tests"][1]["state"], "not-run");
    assert_eq!(json["acceptances"][0]["findings"][0], finding.as_str());
    assert!(
        provision["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|reason| reason
                .as_str()
                .unwrap()
                .contains("accepted as false positive by A. Assessor until 2027-06-30"))
    );

    // After its last day the acceptance is void: the scan fails again, with a warning.
    let output = provisor()
        .env("SOURCE_DATE_EPOCH", "1830297600") // 2028-01-01
        .arg("check")
        .arg(&assessment)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("expired on 2027-06-30"), "{stderr}");
    assert!(stderr.contains("lab.toml:"), "{stderr}");
}

#[test]
fn sixteen_scans_attaching_at_once_keep_every_entry() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("device.toml");
    fs::write(&assessment, "[conditions]\n1 = true\n").unwrap();
    let roots: Vec<PathBuf> = (0..16)
        .map(|index| weak_root(directory.path(), &format!("root-{index:02}")))
        .collect();
    let children: Vec<std::process::Child> = roots
        .iter()
        .map(|root| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("provisor"))
                .args(["scan", "firmware"])
                .arg(root)
                .args(["-o"])
                .arg(root.with_extension("json"))
                .arg("--assessment")
                .arg(&assessment)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert_eq!(child.wait().unwrap().code(), Some(1));
    }
    let source = fs::read_to_string(&assessment).unwrap();
    for index in 0..16 {
        assert!(
            source.contains(&format!("file = \"scans/firmware-root-{index:02}.json\"")),
            "scan {index} lost:\n{source}"
        );
    }
    assert_eq!(source.matches("[[scan]]").count(), 16);
    provisor().arg("check").arg(&assessment).assert().code(1);
}

#[test]
fn lab_mistakes_exit_two_with_the_place_and_what_to_write() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("lab.toml");
    let cases = [
        (
            "[test.\"5.1-1-9\"]\nverdict = \"pass\"\n",
            "lab.toml:1:7",
            "unknown test case \"5.1-1-9\"",
        ),
        (
            "[[accept]]\nfinding = \"abc\"\nkind = \"false-positive\"\nby = \"me\"\n",
            "lab.toml:1:1",
            "has no reason",
        ),
        (
            "[test.\"5.1-1-2\"]\nverdict = \"pass\"\ndate = \"yesterday\"\n",
            "lab.toml:3:8",
            "is not a date",
        ),
        (
            "[[ixit.\"15-Intf\"]]\npassword = \"xc3511\"\n",
            "lab.toml:2:1",
            "secret written inline",
        ),
    ];
    for (source, place, message) in cases {
        fs::write(&assessment, source).unwrap();
        let output = provisor().arg("check").arg(&assessment).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{source}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{stderr}");
        assert!(stderr.contains(place), "{stderr}");
        assert!(stderr.contains("= help:"), "{stderr}");
        assert!(
            !stderr.contains("xc3511"),
            "a secret is never echoed: {stderr}"
        );
    }
    // Triage refuses an acceptance without a reason and leaves the file as it was.
    fs::write(&assessment, LAB).unwrap();
    let output = provisor()
        .arg("triage")
        .arg(&assessment)
        .args([
            "--accept",
            "abc",
            "--kind",
            "false-positive",
            "--reason",
            " ",
            "--by",
            "me",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(fs::read_to_string(&assessment).unwrap(), LAB);
}

#[test]
fn an_approval_covers_the_content_scans_and_evidence_and_sees_later_changes() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("lab.toml");
    fs::create_dir_all(directory.path().join("evidence")).unwrap();
    fs::write(
        directory.path().join("evidence/setup.md"),
        "the setup flow\n",
    )
    .unwrap();
    fs::write(
        &assessment,
        LAB.replace(
            "method = \"reviewed the IXIT and the setup flow\"",
            "method = \"reviewed the IXIT and the setup flow\"\nevidence = [\"evidence/setup.md\"]",
        ),
    )
    .unwrap();
    let review = |extra: &[&str]| {
        provisor()
            .arg("review")
            .arg(&assessment)
            .args(extra)
            .output()
            .unwrap()
    };
    // The first review needs the report's id and the assessor.
    let output = review(&["--approve", "--reviewer", "B. Reviewer"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--report-id"));
    let output = review(&[
        "--approve",
        "--reviewer",
        "B. Reviewer",
        "--report-id",
        "LAB-2026-0142",
        "--assessor",
        "A. Assessor",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let source = fs::read_to_string(&assessment).unwrap();
    assert!(
        source.contains("report_id = \"LAB-2026-0142\"\nrevision = 1\n"),
        "{source}"
    );
    assert!(
        source.contains("decision = \"approved\"\ndate = 2026-01-01\n"),
        "{source}"
    );
    assert!(source.contains("\"evidence/setup.md\" = \""), "{source}");
    let check_warnings = || {
        let output = provisor().arg("check").arg(&assessment).output().unwrap();
        String::from_utf8(output.stderr).unwrap()
    };
    assert!(
        !check_warnings().contains("changed after"),
        "{}",
        check_warnings()
    );

    fs::write(directory.path().join("evidence/setup.md"), "another flow\n").unwrap();
    let warnings = check_warnings();
    assert!(
        warnings.contains("changed after the review approved revision 1: evidence/setup.md"),
        "{warnings}"
    );
    fs::write(
        &assessment,
        fs::read_to_string(&assessment)
            .unwrap()
            .replace("web console login", "web console and app login"),
    )
    .unwrap();
    assert!(check_warnings().contains("the assessment itself, evidence/setup.md"));

    // Approving again makes a new revision that covers what is there now.
    let output = review(&["--approve", "--reviewer", "B. Reviewer"]);
    assert_eq!(output.status.code(), Some(0));
    let source = fs::read_to_string(&assessment).unwrap();
    assert!(source.contains("revision = 2\n"), "{source}");
    assert_eq!(source.matches("[review]").count(), 1);
    assert!(!check_warnings().contains("changed after"));
    let json: serde_json::Value = serde_json::from_str(&stdout_of(
        provisor()
            .arg("check")
            .arg(&assessment)
            .args(["--format", "json"]),
    ))
    .unwrap();
    assert_eq!(json["review"]["report_id"], "LAB-2026-0142");
    assert_eq!(json["review"]["decision"], "approved");
}

/// A TCP port on 127.0.0.31 that answers whatever it is sent with a bare HTTP response
/// (a minimal web interface); a thread serves at most 500 connections, each bounded by
/// a read deadline, and ends with the test process.
fn web_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.31:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut buffer = [0u8; 2048];
                if matches!(stream.read(&mut buffer), Ok(read) if read > 0) {
                    let _ = stream.write_all(
                        b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello",
                    );
                }
            });
        }
    });
    port
}

fn exposed_failures(output: &std::process::Output) -> Vec<String> {
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| {
            finding["check"] == "net.exposed-interfaces" && finding["outcome"] == "fail"
        })
        .map(|finding| finding["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn scan_host_takes_the_interfaces_from_the_assessments_ixit() {
    let port = web_port();
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("lab.toml");
    let scan = |assessment: &Path, extra: &[&str]| {
        provisor()
            .args(["scan", "host", "127.0.0.31", "--ports", &port.to_string()])
            .args([
                "--no-udp",
                "--no-auth-tests",
                "--format",
                "json",
                "--assessment",
            ])
            .arg(assessment)
            .args(extra)
            .env_remove("CAMERA_PASSWORD")
            .output()
            .unwrap()
    };
    // Only another port is declared: the open one is undeclared.
    fs::write(
        &assessment,
        "kind = \"lab\"\n[[ixit.\"15-Intf\"]]\ndescription = \"web\"\nport = 443\n",
    )
    .unwrap();
    let output = scan(&assessment, &[]);
    let failures = exposed_failures(&output);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains(&port.to_string()), "{failures:?}");

    // Declared in the assessment: no failure.
    fs::write(
        &assessment,
        format!("kind = \"lab\"\n[[ixit.\"15-Intf\"]]\ndescription = \"app\"\nport = {port}\nservice = \"http\"\n"),
    )
    .unwrap();
    let output = scan(&assessment, &[]);
    assert!(exposed_failures(&output).is_empty());

    // A separate IXIT file wins over the assessment for the same port.
    let ixit = directory.path().join("ixit.toml");
    fs::write(
        &ixit,
        format!("[[interface]]\nname = \"app\"\nport = {port}\nservice = \"ssh\"\n"),
    )
    .unwrap();
    let output = scan(&assessment, &["--ixit", ixit.to_str().unwrap()]);
    let failures = exposed_failures(&output);
    assert_eq!(
        failures.len(),
        1,
        "declared as SSH, speaks HTTP: {failures:?}"
    );

    // A credential whose reference cannot be resolved stops the scan before it starts.
    fs::write(
        &assessment,
        format!(
            "kind = \"lab\"\n[[ixit.\"15-Intf\"]]\ndescription = \"app\"\nport = {port}\nuser = \"admin\"\npassword = {{ env = \"CAMERA_PASSWORD\" }}\n"
        ),
    )
    .unwrap();
    let output = scan(&assessment, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lab.toml:2: IXIT 15-Intf entry 15-Intf #1: the password is in $CAMERA_PASSWORD, which is not set"), "{stderr}");
}
