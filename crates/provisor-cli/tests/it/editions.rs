//! The current edition end to end: a wording file puts the standard's sentences in place
//! of provisor's marked summaries, from the assessment or the command line, and is
//! refused with its place when it is wrong.

use std::fs;

use crate::support::{provisor, root, stdout_of};

const WORDING: &str = "crates/provisor-cli/tests/it/fixtures/wording-v3.txt";

/// A V3.1.3 assessment in a temporary directory, with the test wording file beside it.
fn v3_assessment(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let directory = tempfile::tempdir().unwrap();
    fs::copy(root().join(WORDING), directory.path().join("wording.txt")).unwrap();
    let path = directory.path().join("device.toml");
    fs::write(
        &path,
        format!("edition = \"en303645-v3.1.3\"\n{extra}\n[device]\nmodel = \"Cam\"\n"),
    )
    .unwrap();
    (directory, path)
}

#[test]
fn a_wording_file_named_by_the_assessment_replaces_the_summaries() {
    let (_directory, path) = v3_assessment("wording = \"wording.txt\"");
    let json: serde_json::Value = serde_json::from_str(&stdout_of(
        provisor()
            .arg("check")
            .arg(&path)
            .args(["--format", "json"]),
    ))
    .unwrap();
    let bytes = fs::read(root().join(WORDING)).unwrap();
    let sha256 = provisor_engine::sha256_hex(&bytes);
    assert_eq!(json["wording"]["file"], "wording.txt");
    assert_eq!(json["wording"]["sha256"], sha256.as_str());
    assert_eq!(
        json["wording"]["provisions"],
        serde_json::json!(["5.1-2A", "6-6"])
    );
    let html = stdout_of(
        provisor()
            .arg("report")
            .arg(&path)
            .args(["--format", "html"]),
    );
    assert!(html.contains("Placeholder wording of 5.1-2A, on two lines."));
    assert!(!html.contains("New in V3.1.3: a recommendation worded"));
    // Provisions the file does not give keep their marked summary.
    assert!(html.contains("<span class=\"source\" title=\"summary, not the standard&#39;s wording\">[summary]</span> Debug interfaces")
        || html.contains("[summary]</span> Debug interfaces"), "{html}");
    assert!(html.contains(&format!(
        "from the wording file wording.txt (SHA-256 {sha256})"
    )));
    let markdown = stdout_of(provisor().arg("report").arg(&path).args(["--format", "md"]));
    assert!(markdown.contains(&format!(
        "from the wording file wording.txt (SHA-256 {sha256})"
    )));
    // A bundle carries the wording file, so its reports can be made again elsewhere.
    let bundle = path.with_file_name("device.tar");
    provisor()
        .arg("bundle")
        .arg(&path)
        .arg("-o")
        .arg(&bundle)
        .assert()
        .success();
    let verified = provisor().arg("verify").arg(&bundle).output().unwrap();
    assert!(verified.status.success());
    let said = String::from_utf8_lossy(&verified.stdout).into_owned()
        + &String::from_utf8_lossy(&verified.stderr);
    // The assessment, the wording file and three reports.
    assert!(said.contains("5 members match the manifest"), "{said}");
    let tar = fs::read(&bundle).unwrap();
    assert!(tar.windows(11).any(|window| window == b"wording.txt"));
}

#[test]
fn the_command_line_wording_file_takes_the_place_of_the_assessments() {
    let (directory, path) = v3_assessment("");
    let other = directory.path().join("other.txt");
    fs::write(&other, "5.6-4A\nOther placeholder of 5.6-4A.\n").unwrap();
    let html = stdout_of(
        provisor()
            .arg("report")
            .arg(&path)
            .args(["--format", "html", "--wording"])
            .arg(&other),
    );
    assert!(html.contains("Other placeholder of 5.6-4A."));
    let table = stdout_of(
        provisor()
            .arg("check")
            .arg(&path)
            .arg("--wording")
            .arg(&other),
    );
    assert!(table.contains("5.6-4A"), "{table}");
}

#[test]
fn a_wrong_wording_file_is_refused_with_its_place() {
    // A pinned file that changed.
    let (_directory, path) = v3_assessment(&format!(
        "wording = {{ file = \"wording.txt\", sha256 = \"{}\" }}",
        "0".repeat(64)
    ));
    let output = provisor().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("device.toml:2:11"), "{stderr}");
    assert!(stderr.contains("but the assessment pins 000"), "{stderr}");
    // A malformed block, a voided provision, an unknown id: file:line:col.
    let (directory, path) = v3_assessment("");
    for (text, place, words) in [
        (
            "5.1-1\n\nWhere passwords are used\n",
            "bad.txt:1:1",
            "5.1-1 has no text",
        ),
        ("# head\n5.13-1\ntext\n", "bad.txt:2:1", "voided"),
        ("6-9\ntext\n", "bad.txt:1:1", "unknown provision \"6-9\""),
    ] {
        let bad = directory.path().join("bad.txt");
        fs::write(&bad, text).unwrap();
        let output = provisor()
            .current_dir(directory.path())
            .arg("check")
            .arg(&path)
            .args(["--wording", "bad.txt"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(place), "{text}: {stderr}");
        assert!(stderr.contains(words), "{text}: {stderr}");
    }
    // A missing wording file is named with the key that names it.
    let (_directory, path) = v3_assessment("wording = \"missing.txt\"");
    let output = provisor().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot read wording file missing.txt")
    );
}
