//! Bad input of every kind ends with exit code 2 and a message naming what and where;
//! nothing panics and `-o` never leaves a partial file.

use std::fs;
use std::path::Path;

use crate::support::{SMARTCAM, in_root, provisor, root};

fn check_error(source: &[u8]) -> String {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bad.toml");
    fs::write(&path, source).unwrap();
    let output = provisor().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr.replace(&directory.path().display().to_string(), "[dir]")
}

#[test]
fn malformed_toml_is_located_with_the_line_shown() {
    insta::assert_snapshot!(
        "malformed-toml",
        check_error(b"edition = \"en303645-v2.1.1\"\n[conditions]\n1 = yes\n")
    );
}

#[test]
fn every_kind_of_invalid_assessment_is_named_and_located() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "edition = \"en303645-v9\"\n",
            "unknown edition \"en303645-v9\"",
            "bad.toml:1:11",
        ),
        (
            "[provision.\"5.1-9\"]\nsupport = \"yes\"\n",
            "unknown provision \"5.1-9\"",
            "bad.toml:1:12",
        ),
        (
            "[conditions]\n0 = true\n",
            "unknown condition \"0\"",
            "bad.toml:2:1",
        ),
        (
            "[conditions]\n4 = true\n5 = true\n",
            "conditions 4 and 5 contradict",
            "bad.toml:",
        ),
        (
            "[conditions]\n22 = true\n21 = false\n",
            "condition 22 implies condition 21",
            "bad.toml:",
        ),
        (
            "[provision.\"4-1\"]\nsupport = \"yes\"\n",
            "derived",
            "bad.toml:1:12",
        ),
        (
            "[conditions]\n13 = true\n[provision.\"5.6-4\"]\nsupport = \"not-applicable\"\n",
            "declared not-applicable",
            "bad.toml:3:12",
        ),
        (
            "[provision.\"5.2-1\"]\nsupport = \"not-applicable\"\n",
            "it is unconditional",
            "bad.toml:1:12",
        ),
        (
            "[provision.\"5.2-1\"]\nsupport = \"Y\"\n",
            "must be \"yes\", \"no\" or \"not-applicable\"",
            "bad.toml:2:11",
        ),
        (
            "[provision.\"5.2-1\"]\ndetail = \"x\"\n",
            "missing field `support`",
            "bad.toml:1:1",
        ),
        (
            "[[scan]]\nfile = \"missing.json\"\n",
            "cannot read scan file missing.json",
            "bad.toml:2:8",
        ),
        (
            "[provision.\"5.2-1\"]\nsupport = \"yes\"\nevidence = [\"nope.pdf\"]\n",
            "cannot read evidence file nope.pdf",
            "bad.toml:3:13",
        ),
        (
            "[device]\nfirmware_sha256 = \"abc\"\n",
            "not a SHA-256",
            "bad.toml:2:20",
        ),
        ("colour = 1\n", "unknown field `colour`", "bad.toml:1:1"),
    ];
    for (source, message, place) in cases {
        let stderr = check_error(source.as_bytes());
        assert!(stderr.contains(message), "{source:?}: {stderr}");
        assert!(stderr.contains(place), "{source:?}: {stderr}");
    }
}

fn scan_error(findings: &str) -> String {
    let directory = tempfile::tempdir().unwrap();
    fs::write(directory.path().join("scan.json"), findings).unwrap();
    fs::write(
        directory.path().join("a.toml"),
        "[[scan]]\nfile = \"scan.json\"\n",
    )
    .unwrap();
    let output = provisor()
        .arg("check")
        .arg(directory.path().join("a.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    String::from_utf8(output.stderr).unwrap()
}

const FINDING: &str = r#"{"id":"x1","check":"firmware.default-password","provisions":["5.1-1"],"outcome":"fail","severity":"critical","title":"t"}"#;

fn findings_file(finding: &str) -> String {
    format!(
        r#"{{"schema":"provisor.findings/1","tool":{{"name":"provisor","version":"0.1.0"}},"target":{{"kind":"firmware"}},"findings":[{finding}]}}"#
    )
}

#[test]
fn scan_files_are_validated() {
    let unknown_outcome = findings_file(&FINDING.replace("\"fail\"", "\"broken\""));
    let stderr = scan_error(&unknown_outcome);
    assert!(stderr.contains("unknown variant `broken`"), "{stderr}");
    assert!(stderr.contains("scan.json:1:"), "{stderr}");

    let unknown_provision = findings_file(&FINDING.replace("5.1-1", "5.1-7"));
    let stderr = scan_error(&unknown_provision);
    assert!(stderr.contains("unknown provision \"5.1-7\""), "{stderr}");
    assert!(stderr.contains("/findings/0/provisions/0"), "{stderr}");

    let stderr = scan_error(&findings_file(FINDING).replace("findings/1", "findings/9"));
    assert!(stderr.contains("unsupported findings schema"), "{stderr}");

    let stderr = scan_error("{\"schema\": ");
    assert!(stderr.contains("malformed findings file"), "{stderr}");

    // A findings file of /2 names the edition it is numbered in: an unknown one, or one
    // the assessment's edition does not migrate from, is refused where it is written.
    let current = |edition: &str| {
        findings_file(FINDING).replace(
            "\"schema\":\"provisor.findings/1\"",
            &format!("\"schema\":\"provisor.findings/2\",\"edition\":\"{edition}\""),
        )
    };
    let stderr = scan_error(&current("en303645-v9"));
    assert!(
        stderr.contains("unknown edition \"en303645-v9\""),
        "{stderr}"
    );
    assert!(stderr.contains("/edition"), "{stderr}");
    let stderr = scan_error(&current("en303645-v3.1.3"));
    assert!(
        stderr
            .contains("numbered in en303645-v3.1.3, which cannot be carried into en303645-v2.1.1"),
        "{stderr}"
    );
}

#[test]
fn a_valid_scan_feeds_the_verdicts() {
    let directory = tempfile::tempdir().unwrap();
    fs::write(directory.path().join("scan.json"), findings_file(FINDING)).unwrap();
    fs::write(
        directory.path().join("a.toml"),
        "[conditions]\n1 = true\n[provision.\"5.1-1\"]\nsupport = \"yes\"\ndetail = \"unique\"\n[[scan]]\nfile = \"scan.json\"\n",
    )
    .unwrap();
    let output = provisor()
        .arg("check")
        .arg(directory.path().join("a.toml"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let first = &json["provisions"][1];
    assert_eq!(first["id"], "5.1-1");
    assert_eq!(first["verdict"], "fail");
    assert_eq!(first["contradiction"], true);
    assert_eq!(first["findings"], serde_json::json!(["x1"]));
    assert_eq!(json["scans"][0]["file"], "scan.json");
}

#[test]
fn binary_garbage_is_refused_without_a_panic() {
    let mut garbage = vec![0u8, 159, 146, 150, 255, 0, 1, 2];
    garbage.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let stderr = check_error(&garbage);
    assert!(stderr.contains("not UTF-8"), "{stderr}");
    let stderr = check_error(b"\x1b[31m[[[[\0\0 = = =");
    assert!(stderr.contains("malformed assessment file"), "{stderr}");
}

#[test]
fn missing_files_and_directories_are_invalid_input() {
    provisor()
        .args(["check", "does/not/exist.toml"])
        .assert()
        .code(2);
    provisor().args(["check", "."]).assert().code(2);
    provisor().args(["check", "/dev/zero"]).assert().code(2);
    provisor()
        .args(["report", "--format", "pdf", "x"])
        .assert()
        .code(2);
    provisor().arg("frobnicate").assert().code(2);
}

#[test]
fn output_is_never_partial() {
    let directory = tempfile::tempdir().unwrap();
    let target = directory.path().join("report.md");
    fs::write(&target, "previous report").unwrap();
    // Invalid input: the previous report is untouched.
    let bad = directory.path().join("bad.toml");
    fs::write(&bad, "[conditions]\n1 = maybe\n").unwrap();
    provisor()
        .args(["report", "--format", "md", "-o"])
        .arg(&target)
        .arg(&bad)
        .assert()
        .code(2);
    assert_eq!(fs::read_to_string(&target).unwrap(), "previous report");
    // An unwritable destination: an error, and no stray file.
    let nowhere = directory.path().join("no/such/dir/report.md");
    in_root()
        .args(["report", SMARTCAM, "--format", "md", "-o"])
        .arg(&nowhere)
        .assert()
        .code(2);
    assert!(!Path::new(&nowhere).exists());
    assert_eq!(fs::read_dir(directory.path()).unwrap().count(), 2);
}

/// A decoder's panic on a hostile image is contained by the scan: the image's problem
/// is a finding, and no panic message reaches the terminal.
#[test]
fn a_contained_decoder_panic_stays_off_the_terminal() {
    let fixture = root().join("crates/provisor-firmware/tests/fixtures/squashfs-read-overflow.bin");
    let output = provisor()
        .args(["scan", "firmware"])
        .arg(&fixture)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(findings["findings"].is_array(), "{findings}");
}

/// Credentials go to a host other than this machine only with explicit authorisation:
/// without it (and without a terminal to ask on) the scan stops before sending anything.
/// 192.0.2.1 is a documentation address; no packet is sent to it.
#[test]
fn credentials_need_authorisation_beyond_this_machine() {
    let output = provisor()
        .args(["scan", "host", "192.0.2.1", "--ports", "80"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--i-am-authorised"), "{stderr}");
    assert!(
        stderr.contains("192.0.2.1 is not on this machine"),
        "{stderr}"
    );
}

/// A broken IXIT file is named with its line, and nothing is scanned.
#[test]
fn a_broken_ixit_file_is_refused_with_its_line() {
    let directory = tempfile::tempdir().unwrap();
    let ixit = directory.path().join("ixit.toml");
    fs::write(&ixit, "[[interface]]\nname = \"web\"\nport = \"https\"\n").unwrap();
    let output = provisor()
        .args(["scan", "host", "127.0.0.31", "--ports", "80", "--ixit"])
        .arg(&ixit)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ixit.toml: line 3:"), "{stderr}");
}

/// A host scan refuses an advisory file that is not a database before scanning.
#[test]
fn a_host_scan_refuses_a_broken_advisory_database() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("advisories.json");
    fs::write(&database, "{\"not\": \"a database\"}").unwrap();
    let output = provisor()
        .args([
            "scan",
            "host",
            "127.0.0.31",
            "--ports",
            "80",
            "--advisories",
        ])
        .arg(&database)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("advisories.json"), "{stderr}");
}
