//! The two editions end to end: wording files (the standard's sentences in place of
//! provisor's marked summaries), migration from V2.1.1 to V3.1.3 and what it marks for
//! confirmation, diff across editions, the UK PSTI view and statement, and the mistakes
//! of each refused with their place.

use std::fs;

use crate::support::{check_json, provision_in, provisor, report_of, root, stdout_of};

const WORDING: &str = "crates/provisor-cli/tests/it/fixtures/wording-v3.txt";

/// `provisor review PATH --approve`, by a reviewer R of an assessor A's report.
fn approve(path: &std::path::Path) -> assert_cmd::Command {
    let mut command = provisor();
    command.arg("review").arg(path).args([
        "--reviewer",
        "R",
        "--report-id",
        "R-1",
        "--assessor",
        "A",
        "--approve",
    ]);
    command
}

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
    let json = check_json(&path);
    let bytes = fs::read(root().join(WORDING)).unwrap();
    let sha256 = provisor_engine::sha256_hex(&bytes);
    assert_eq!(json["wording"]["file"], "wording.txt");
    assert_eq!(json["wording"]["sha256"], sha256.as_str());
    assert_eq!(
        json["wording"]["provisions"],
        serde_json::json!(["5.1-2A", "6-6"])
    );
    let html = report_of(&path, "html");
    assert!(html.contains("Placeholder wording of 5.1-2A, on two lines."));
    assert!(!html.contains("New in V3.1.3: a recommendation worded"));
    // Provisions the file does not give keep their marked summary.
    assert!(html.contains("<span class=\"source\" title=\"summary, not the standard&#39;s wording\">[summary]</span> Debug interfaces")
        || html.contains("[summary]</span> Debug interfaces"), "{html}");
    assert!(html.contains(&format!(
        "from the wording file wording.txt (SHA-256 {sha256})"
    )));
    let markdown = report_of(&path, "md");
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

/// Copies an example directory into a temporary one, so migrated files land beside the
/// evidence and scans they name.
fn example_copy() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for example in ["smartcam", "minimal"] {
        let from = root().join("examples").join(example);
        let to = directory.path().join(example);
        copy_tree(&from, &to);
    }
    directory
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn every_example_migrates_into_a_v3_file_that_check_accepts() {
    let directory = example_copy();
    for example in [
        "smartcam/assessment.toml",
        "smartcam/lab.toml",
        "minimal/assessment.toml",
    ] {
        let old = directory.path().join(example);
        let new = old.with_extension("v3.toml");
        let output = provisor()
            .arg("migrate")
            .arg(&old)
            .arg("-o")
            .arg(&new)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = fs::read_to_string(&new).unwrap();
        assert!(text.contains("edition = \"en303645-v3.1.3\""), "{example}");
        let check = provisor().arg("check").arg(&new).output().unwrap();
        assert!(
            matches!(check.status.code(), Some(0 | 1)),
            "{example}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[test]
fn migration_carries_answers_and_statements_and_says_what_needs_a_person() {
    let directory = example_copy();
    let old = directory.path().join("smartcam/lab.toml");
    let new = directory.path().join("smartcam/lab-v3.toml");
    let output = provisor()
        .arg("migrate")
        .arg(&old)
        .arg("-o")
        .arg(&new)
        .output()
        .unwrap();
    assert!(output.status.success());
    let report = String::from_utf8(output.stderr).unwrap();
    // Answers that do not carry, and the questions V3.1.3 adds.
    assert!(report.contains("condition 9 (the device supports automatic updates and/or update notifications) was true: answer feature h and feature i yourself"), "{report}");
    assert!(report.contains("answer feature p:"));
    // The new provisions, the split and changed statements, the tests, IXIT and review.
    for id in ["5.1-2A", "6-3B", "6-6", "6-7", "6-8"] {
        assert!(report.contains(&format!("state {id} (")), "{id}");
    }
    assert!(report.contains(
        "confirm 5.6-4A: its statement was carried from 5.6-4, which EN 303 645 V3.1.3 splits"
    ));
    assert!(report.contains("IXIT 15-Intf entry Intf-1 is now in 28-LogIntf"));
    assert!(report.contains("the review of the old assessment is not carried"));
    let text = fs::read_to_string(&new).unwrap();
    assert!(text.contains("kind = \"lab\""));
    assert!(text.contains("\na = { answer = true, note = \"carried: EN 303 645 V2.1.1 condition 1 (passwords are used) was true"), "{text}");
    assert!(text.contains("[provision.\"5.6-4B\"]"));
    assert!(text.contains("carried = \"5.6-4\""));
    assert!(!text.contains("[provision.\"5.6-4\"]"));
    assert!(!text.contains("[review]"));
    // Unchanged provisions carry plainly.
    let plain = text.split("[provision.\"5.2-1\"]").nth(1).unwrap();
    let plain = plain.split("\n\n").next().unwrap();
    assert!(!plain.contains("carried"), "{plain}");
    // A test record follows its test case, marked; in the lab it waits for an assessor.
    assert!(text.contains("[test.\"5.1-1-2\"]"));
    let json = check_json(&new);
    let provision = |id: &str| provision_in(&json, id);
    let reasons = provision("5.1-1")["reasons"].to_string();
    assert!(
        reasons.contains("carried from test case 5.1-1-2"),
        "{reasons}"
    );
    assert!(reasons.contains("carried, confirm"), "{reasons}");
    assert_eq!(provision("5.6-4A")["statement"]["carried"], "5.6-4");
    // Reports flag what is carried.
    let html = report_of(&new, "html");
    assert!(html.contains("[carried from 5.6-4, confirm]"));
    let csv = report_of(&new, "ics-csv");
    assert!(csv.contains("[carried from 5.6-4, confirm]"));
    // An approval waits until nothing carried is left unconfirmed.
    let refused = approve(&new).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("carried from an earlier release or edition are not confirmed")
    );
    let confirmed: String = fs::read_to_string(&new)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("carried = "))
        .map(|line| format!("{line}\n"))
        .collect();
    fs::write(&new, confirmed).unwrap();
    approve(&new).assert().success();
}

#[test]
fn migrating_what_cannot_be_migrated_is_refused() {
    let (_directory, path) = v3_assessment("");
    let output = provisor().arg("migrate").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already of that edition"));
    let output = provisor()
        .arg("migrate")
        .arg(root().join("examples/minimal/assessment.toml"))
        .args(["--to", "en303645-v9"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown edition"));
    // An existing output is not replaced without --force.
    let directory = example_copy();
    let old = directory.path().join("minimal/assessment.toml");
    let output = provisor()
        .arg("migrate")
        .arg(&old)
        .arg("-o")
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}

#[test]
fn diff_across_editions_matches_rows_by_the_migration_map() {
    // Firmware 3.2.1 assessed against V2.1.1; firmware 3.3.0 against V3.1.3, fixing the
    // U-Boot prompt on the UART and regressing brute-force protection.
    let source =
        fs::read_to_string(root().join("examples/smartcam/assessment-v3.1.3.toml")).unwrap();
    let changed = source
        .replace(
            "firmware_version = \"3.2.1\"",
            "firmware_version = \"3.3.0\"",
        )
        .replace(
            "support = \"no\"\ndetail = \"The Linux console",
            "support = \"yes\"\ndetail = \"The Linux console",
        )
        .replace(
            "support = \"no\"\ndetail = \"The UART pads",
            "support = \"yes\"\ndetail = \"Fixed: the UART pads",
        )
        .replace(
            "support = \"yes\"\ndetail = \"Five wrong local logins",
            "support = \"no\"\ndetail = \"Five wrong local logins",
        );
    assert_ne!(changed, source);
    let new = root().join("examples/smartcam/.diff-editions-new.toml");
    fs::write(&new, changed).unwrap();
    let output = provisor()
        .current_dir(root())
        .args(["diff", "examples/smartcam/assessment.toml"])
        .arg(&new)
        .output()
        .unwrap();
    let json = provisor()
        .current_dir(root())
        .args(["diff", "examples/smartcam/assessment.toml"])
        .arg(&new)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let _ = fs::remove_file(&new);
    assert_eq!(output.status.code(), Some(1), "a regression");
    let text = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("matched by the migration map"), "{stderr}");
    // Real changes: the debug port fixed, brute-force protection regressed.
    assert!(text.contains("5.6-4 → 5.6-4A M  FAIL → PASS"), "{text}");
    assert!(text.contains("5.6-4 → 5.6-4B R  FAIL → PASS"), "{text}");
    assert!(text.contains("5.1-5   M  PASS → FAIL"), "{text}");
    // Renamed, split and unchanged rows are not changes; new rows say they are new.
    assert!(!text.contains("4-1 → 5.0-1"), "{text}");
    assert!(!text.contains("5.13-1 → 5.13-1A"), "{text}");
    assert!(!text.contains("5.3-4 → 5.3-4A"), "{text}");
    assert!(text.contains("6-6     M  (absent) → PASS"), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let fixed = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["provision"] == "5.6-4A")
        .unwrap();
    assert_eq!(fixed["previous"], "5.6-4");
    // Back from V3.1.3 to V2.1.1: the same pairs, sides swapped; rows V2.1.1 does not
    // have are gone, not changed.
    let output = provisor()
        .current_dir(root())
        .args([
            "diff",
            "examples/smartcam/assessment-v3.1.3.toml",
            "examples/smartcam/assessment.toml",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("5.6-4B → 5.6-4 M  NOT FULFILLED → FAIL"),
        "{text}"
    );
    assert!(text.contains("6-6     M  PASS → (absent)"), "{text}");
    assert!(!text.contains("5.0-1"), "{text}");
}

#[test]
fn the_uk_psti_view_says_which_requirements_are_met_and_from_which_provisions() {
    // V2.1.1, the edition the regulations cite: read directly.
    let output = provisor()
        .current_dir(root())
        .args([
            "check",
            "examples/smartcam/assessment.toml",
            "--regime",
            "uk-psti",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "every requirement is met");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("UK PSTI security requirements (SI 2023/1007"),
        "{text}"
    );
    assert!(text.contains("  MET      Passwords (Schedule 1, paragraph 1; deemed met by Schedule 2, paragraph 1)\n           5.1-1: PASS, 5.1-2: PASS"), "{text}");
    assert!(!text.contains("indicative"));
    // V3.1.3: the corresponding provisions, and the view is indicative.
    let output = provisor()
        .current_dir(root())
        .args([
            "check",
            "examples/smartcam/assessment-v3.1.3.toml",
            "--regime",
            "uk-psti",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("indicative only: the regulations cite EN 303 645 V2.1.1"),
        "{text}"
    );
    // A failing password provision fails the requirement, and check exits 1.
    let (_directory, path) = v3_assessment("");
    let source = fs::read_to_string(&path).unwrap()
        + "[conditions]\na = true\nb = false\n[provision.\"5.1-1\"]\nsupport = \"no\"\ndetail = \"one password for all\"\n";
    fs::write(&path, source).unwrap();
    let output = provisor()
        .arg("check")
        .arg(&path)
        .args(["--regime", "uk-psti"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("NOT MET  Passwords"), "{text}");
    assert!(text.contains("OPEN     Information on how to report security issues"));
    // Every report has the section; JSON names the requirements.
    let json = check_json(&path);
    assert_eq!(json["regimes"][0]["id"], "uk-psti");
    assert_eq!(json["regimes"][0]["requirements"][0]["status"], "not-met");
    let html = report_of(&path, "html");
    assert!(html.contains("<h2>UK PSTI security requirements</h2>"));
    let markdown = report_of(&path, "md");
    assert!(markdown.contains("## UK PSTI security requirements"));
    // An unknown regime is refused.
    let output = provisor()
        .arg("check")
        .arg(&path)
        .args(["--regime", "eu-cra"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("regimes known to this version: uk-psti")
    );
}

#[test]
fn the_psti_statement_draft_has_the_prescribed_content() {
    let statement = stdout_of(provisor().current_dir(root()).args([
        "report",
        "examples/smartcam/assessment.toml",
        "--format",
        "psti-statement",
    ]));
    for part in [
        "# Statement of compliance",
        "## 1. Product type and batch",
        "- Product type: Acme SmartCam C200 rev B",
        "- Batch: units made from 1 March 2026",
        "- Address: Acme Devices Ltd, 1 Example Way, Cambridge CB1 0AA, United Kingdom",
        "has been prepared by, or on behalf of, Acme",
        "| Passwords (Schedule 1, paragraph 1) | 5.1-1 and 5.1-2 of ETSI EN 303 645 V2.1.1",
        "until at least **2030-12-31**",
        "- Function: [to fill in: signatory's function]",
        "- Place of issue: [to fill in: place]",
    ] {
        assert!(statement.contains(part), "{part}\n{statement}");
    }
    assert!(!statement.contains("Not ready to sign"));
    // What the assessment cannot say is left as a marked blank, and an unmet
    // requirement is said first.
    let (_directory, path) =
        v3_assessment("[provision.\"5.2-1\"]\nsupport = \"no\"\ndetail = \"none yet\"\n");
    let statement = report_of(&path, "psti-statement");
    assert!(statement.contains("**Not ready to sign:**"), "{statement}");
    assert!(statement.contains("[to fill in: the end date of the defined support period"));
    assert!(statement.contains("**Note:** the view below is indicative only"));
}

#[test]
fn diff_reads_assessment_documents_of_both_schemas() {
    let directory = tempfile::tempdir().unwrap();
    let json = stdout_of(provisor().current_dir(root()).args([
        "check",
        "examples/smartcam/assessment-v3.1.3.toml",
        "--format",
        "json",
    ]));
    let current: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(current["schema"], "provisor.assessment/2");
    // Condition ids: numbers for conditions, letters for features.
    assert_eq!(
        provision_in(&current, "5.1-5")["conditions"],
        serde_json::json!([14, "e"])
    );
    let new = directory.path().join("v3.json");
    fs::write(&new, &json).unwrap();
    let old = directory.path().join("v2.json");
    let v2 = stdout_of(provisor().current_dir(root()).args([
        "check",
        "examples/smartcam/assessment.toml",
        "--format",
        "json",
    ]))
    .replace("provisor.assessment/2", "provisor.assessment/1");
    fs::write(&old, v2).unwrap();
    let output = provisor().arg("diff").arg(&old).arg(&new).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("6-6     M  (absent) → PASS"), "{text}");
}

#[test]
fn edition_mistakes_exit_two_with_the_place_and_what_to_write() {
    for (extra, place, words, help) in [
        (
            "[conditions]\n13 = true\n",
            "device.toml:3:1",
            "condition 13 is numbered as in en303645-v2.1.1",
            "write feature r (debug interfaces that are physical ports exist on the device)",
        ),
        (
            "[conditions]\nab = true\n",
            "device.toml:3:1",
            "unknown condition or feature \"ab\"",
            "features a to aa",
        ),
        (
            "[provision.\"6-3\"]\nsupport = \"yes\"\n",
            "device.toml:2:12",
            "provision 6-3 is voided in en303645-v3.1.3",
            "state its successors instead: 6-3A",
        ),
    ] {
        let (_directory, path) = v3_assessment(extra);
        let output = provisor().arg("check").arg(&path).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{extra}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(place), "{extra}: {stderr}");
        assert!(stderr.contains(words), "{extra}: {stderr}");
        assert!(stderr.contains(help), "{extra}: {stderr}");
    }
    // A file that names no edition is read as V2.1.1, and says so.
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("old.toml");
    fs::write(&path, "[conditions]\n1 = true\n").unwrap();
    let output = provisor().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the file names no edition, so it is read as en303645-v2.1.1"),
        "{stderr}"
    );
    assert!(stderr.contains("old.toml:1:1"), "{stderr}");
}

#[test]
fn an_approval_covers_the_wording_file() {
    let (directory, path) = v3_assessment("wording = \"wording.txt\"");
    approve(&path).assert().success();
    assert!(
        fs::read_to_string(&path)
            .unwrap()
            .contains("\"wording.txt\" = ")
    );
    let quiet = provisor().arg("check").arg(&path).output().unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("changed after the review"));
    let wording = directory.path().join("wording.txt");
    let text = fs::read_to_string(&wording).unwrap() + "\n5.3-16\nPlaceholder wording of 5.3-16.\n";
    fs::write(&wording, text).unwrap();
    let warned = provisor().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(
        stderr.contains("changed after the review approved revision 1: wording.txt"),
        "{stderr}"
    );
}

#[test]
fn the_catalog_shows_a_wording_file_s_sentences() {
    let table = stdout_of(provisor().current_dir(root()).args([
        "catalog",
        "--format",
        "md",
        "--wording",
        WORDING,
    ]));
    assert!(
        table.contains("| 5.1-2A | R | R | Placeholder wording of 5.1-2A, on two lines. |"),
        "{table}"
    );
    // Rows the file does not give keep their marks.
    assert!(table.contains("\\[summary\\] Debug interfaces"), "{table}");
    let output = provisor()
        .args(["catalog", "show", "5.13-1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("its successors are 5.13-1A and 5.13-1B")
    );
}
