//! The subcommands on the examples: output, exit codes, the interactive questionnaire
//! and diff.

use std::fs;

use crate::support::{
    MINIMAL, SMARTCAM, check_json, in_root, provision_in, provisor, redact, root, stdout_of,
};

#[test]
fn version_and_help() {
    provisor()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("provisor {}\n", env!("CARGO_PKG_VERSION")));
    let help = stdout_of(provisor().arg("--help"));
    for command in ["catalog", "init", "check", "report", "diff"] {
        assert!(help.contains(command), "{command}");
    }
}

const V2: &str = "en303645-v2.1.1";

#[test]
fn catalog_formats() {
    let table = stdout_of(provisor().args(["catalog", "--edition", V2]));
    assert_eq!(table.lines().filter(|l| l.starts_with("  5.")).count(), 62);
    let json: serde_json::Value = serde_json::from_str(&stdout_of(provisor().args([
        "catalog",
        "--edition",
        V2,
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(json["provisions"].as_array().unwrap().len(), 68);
    assert_eq!(json["conditions"].as_array().unwrap().len(), 28);
    assert_eq!(json["provisions"][1]["conditions"], serde_json::json!([1]));
    assert_eq!(json["provisions"][1]["test_cases"][1]["kind"], "functional");
    let markdown = stdout_of(provisor().args(["catalog", "--edition", V2, "--format", "md"]));
    assert!(markdown.contains("| 5.3-10 | M C (11, 12) |"));
    let show = stdout_of(provisor().args(["catalog", "--edition", V2, "show", "5.1-1"]));
    insta::assert_snapshot!("catalog-show-5.1-1", show);
    // The current edition by default: 78 rows, conditions and features side by side.
    let table = stdout_of(provisor().arg("catalog"));
    assert!(table.contains("EN 303 645 V3.1.3"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(provisor().args(["catalog", "--format", "json"]))).unwrap();
    assert_eq!(json["edition"], "en303645-v3.1.3");
    assert_eq!(json["provisions"].as_array().unwrap().len(), 78);
    let conditions = json["conditions"].as_array().unwrap();
    let features = conditions.iter().filter(|c| c["kind"] == "feature").count();
    assert_eq!((conditions.len(), features), (32, 27));
    assert_eq!(json["provisions"][6]["id"], "5.1-5");
    assert_eq!(
        json["provisions"][6]["conditions"],
        serde_json::json!([14, "e"])
    );
    assert_eq!(json["provisions"][6]["text_source"], "summary");
    let markdown = stdout_of(provisor().args(["catalog", "--format", "md"]));
    assert!(markdown.contains("| 5.1-5 | M C F (14, e) |"), "{markdown}");
    let show = stdout_of(provisor().args(["catalog", "show", "5.6-4A"]));
    insta::assert_snapshot!("catalog-show-5.6-4A", show);
    let output = provisor()
        .args(["catalog", "show", "5.1-99"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown provision \"5.1-99\""));
}

#[test]
fn check_prints_a_table_and_exits_one_when_not_conformant() {
    let output = in_root().args(["check", SMARTCAM]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(!table.contains('\u{1b}'), "no colour when piped");
    insta::assert_snapshot!("check-smartcam", table);
}

#[test]
fn check_json_follows_the_contract() {
    let output = in_root()
        .args(["check", SMARTCAM, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema"], "provisor.assessment/2");
    assert_eq!(json["conformant"], false);
    let provisions = json["provisions"].as_array().unwrap();
    assert_eq!(provisions.len(), 68);
    let debug = provisions.iter().find(|p| p["id"] == "5.6-4").unwrap();
    assert_eq!(debug["verdict"], "fail");
    assert_eq!(debug["applicability"], "applies");
    assert_eq!(debug["conditions"], serde_json::json!([13]));
    assert_eq!(json["summary"]["mandatory"]["fail"], 1);
    assert!(json["summary"]["mandatory"].get("not-fulfilled").is_none());
    assert_eq!(json["summary"]["recommended"]["not-fulfilled"], 3);
}

#[test]
fn a_conformant_assessment_exits_zero() {
    let directory = tempfile::tempdir().unwrap();
    let source = fs::read_to_string(root().join(SMARTCAM)).unwrap();
    let fixed = source
        .replace(
            "support = \"no\"\ndetail = \"The Linux console on the UART pads is disabled, but",
            "support = \"yes\"\ndetail = \"Fixed: the Linux console on the UART pads is disabled, and",
        )
        .replace("evidence = [\"evidence/", "evidence = [\"https://acme.example/evidence/")
        .replace(", \"https://acme.example/security\"]", "]")
        + "\n[provision.\"5.6-8\"]\nsupport = \"yes\"\ndetail = \"MMU with separate address spaces.\"\n"
        + "\n[provision.\"5.12-3\"]\nsupport = \"yes\"\ndetail = \"The app's security checkup.\"\n";
    let path = directory.path().join("fixed.toml");
    fs::write(&path, fixed).unwrap();
    provisor().arg("check").arg(&path).assert().code(0);
}

#[test]
fn report_writes_the_file_it_is_asked_for() {
    let directory = tempfile::tempdir().unwrap();
    let target = directory.path().join("report.html");
    in_root()
        .args(["report", SMARTCAM, "--format", "html", "-o"])
        .arg(&target)
        .assert()
        .success();
    let html = fs::read_to_string(&target).unwrap();
    assert!(html.contains("NOT CONFORMANT"));
    let leftovers: Vec<_> = fs::read_dir(directory.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn init_writes_a_template_that_checks() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("new.toml");
    provisor()
        .args(["init", "--edition", V2])
        .arg(&path)
        .assert()
        .success();
    let template = fs::read_to_string(&path).unwrap();
    for condition in 1..=28 {
        assert!(
            template.contains(&format!("\n# {condition}) ")),
            "condition {condition}"
        );
    }
    assert_eq!(template.matches("# [provision.\"").count(), 67);
    assert!(template.contains("# 4-1 (M)"));
    // Valid as written: everything is open.
    let output = provisor().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("68 provision(s) open")
    );
    // The current edition by default: conditions, then features, every row listed.
    let path = directory.path().join("current.toml");
    provisor().arg("init").arg(&path).assert().success();
    let template = fs::read_to_string(&path).unwrap();
    assert!(template.contains("edition = \"en303645-v3.1.3\""));
    for id in ["3", "12", "14", "15", "16", "a", "q", "aa"] {
        assert!(template.contains(&format!("\n# {id}) ")), "{id}");
        assert!(template.contains(&format!("\n# {id} = true\n")), "{id}");
    }
    assert_eq!(template.matches("# [provision.\"").count(), 77);
    assert!(template.contains("# 5.0-1 (M)"));
    assert!(template.contains("# (summary, not the standard's wording)"));
    assert!(template.contains("# (V2.1.1 wording)"));
    let output = provisor().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("78 provision(s) open")
    );
    // It refuses to overwrite.
    provisor().arg("init").arg(&path).assert().code(2);
    provisor()
        .arg("init")
        .arg(&path)
        .arg("--force")
        .assert()
        .success();
}

#[test]
fn init_interactive_asks_skips_implied_and_writes_the_answers() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("asked.toml");
    // Device: Acme, Cam, 1.0. Conditions: 1 y, 2 n, 3 n, 4 n (5 implied), 6 y, 7 y,
    // 8 y, 9 n, 10 n, 11 y (12 implied), 13 maybe → again y, then skip the rest.
    let mut script = String::from("Acme\nCam\n1.0\ny\nn\nn\nn\ny\ny\ny\nn\nn\ny\nmaybe\ny\n");
    script.push_str(&"s\n".repeat(20));
    let output = provisor()
        .args(["init", "--interactive", "--edition", V2])
        .arg(&path)
        .write_stdin(script)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let transcript = String::from_utf8(output.stdout).unwrap();
    assert!(
        transcript.contains("already decided: yes, because of condition 4"),
        "{transcript}"
    );
    assert!(transcript.contains("already decided: yes, because of condition 11"));
    assert!(transcript.contains("please answer y, n or s"));
    assert!(transcript.contains("→ not applicable now: 5.1-2"));
    assert!(transcript.contains("→ applies now: 5.6-4"));
    let written = fs::read_to_string(&path).unwrap();
    assert!(written.contains("manufacturer = \"Acme\""));
    assert!(written.contains("\n13 = true\n"));
    assert!(written.contains("\n4 = false\n"));
    assert!(written.contains("# 5 = true    (follows from condition 4)"));
    // The written file is a valid assessment with those answers.
    let debug = provision_in(&check_json(&path), "5.6-4");
    assert_eq!(debug["applicability"], "applies");
}

#[test]
fn init_interactive_asks_the_features_general_first() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("v3.toml");
    // Device, then: a no (b follows), c yes, d yes, e yes, 14 yes, j yes (12 and g
    // follow), then skip the rest.
    let mut script = String::from("Acme\nCam\n1.0\nn\ny\ny\ny\ny\ny\n");
    script.push_str(&"s\n".repeat(30));
    let output = provisor()
        .args(["init", "--interactive"])
        .arg(&path)
        .write_stdin(script)
        .output()
        .unwrap();
    assert!(output.status.success());
    let transcript = String::from_utf8(output.stdout).unwrap();
    assert!(
        transcript.starts_with("provisor init: 32 questions"),
        "{transcript}"
    );
    assert!(transcript.contains("[1/32] Feature a: passwords can be used"));
    assert!(
        transcript.contains("already decided: no, because of feature a"),
        "{transcript}"
    );
    assert!(transcript.contains("[6/32] Condition 14:"));
    assert!(transcript.contains("→ applies now: 5.1-5"));
    assert!(transcript.contains(
        "12: an update mechanism is implemented — already decided: yes, because of feature j"
    ));
    let written = fs::read_to_string(&path).unwrap();
    assert!(written.contains("\na = false\n"));
    assert!(written.contains("\nj = true\n"));
    assert!(
        written.contains("# g = true    (follows from condition 12)"),
        "{written}"
    );
    let output = provisor().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn diff_reports_regressions_first_and_exits_one() {
    let directory = tempfile::tempdir().unwrap();
    let old = directory.path().join("old.json");
    let output = in_root()
        .args(["check", SMARTCAM, "--format", "json"])
        .output()
        .unwrap();
    fs::write(&old, &output.stdout).unwrap();
    // The new firmware fixes the debug port but regresses 5.1-5 and 5.2-2.
    let source = fs::read_to_string(root().join(SMARTCAM)).unwrap();
    let new_source = source
        .replace(
            "support = \"no\"\ndetail = \"The Linux console",
            "support = \"yes\"\ndetail = \"The Linux console",
        )
        .replace(
            "support = \"yes\"\ndetail = \"Five wrong local logins",
            "support = \"no\"\ndetail = \"Five wrong local logins",
        )
        .replace(
            "support = \"yes\"\ndetail = \"Critical and high issues",
            "support = \"no\"\ndetail = \"\"\n# \"Critical and high issues",
        );
    let new = root().join("examples/smartcam/.diff-test-new.toml");
    fs::write(&new, new_source).unwrap();
    let output = provisor().arg("diff").arg(&old).arg(&new).output().unwrap();
    let _ = fs::remove_file(&new);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = redact(&String::from_utf8(output.stdout).unwrap());
    insta::assert_snapshot!("diff-smartcam", text);
    // Same input: nothing changed, exit 0.
    provisor().arg("diff").arg(&old).arg(&old).assert().code(0);
    in_root()
        .args(["diff", MINIMAL, MINIMAL, "--format", "json"])
        .assert()
        .code(0);
}

#[test]
fn check_uses_colour_on_a_terminal() {
    // CLICOLOR_FORCE stands in for a terminal; piped output is plain (see above).
    let output = in_root()
        .env("CLICOLOR_FORCE", "1")
        .args(["check", MINIMAL])
        .output()
        .unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("\u{1b}[1m\u{1b}[90mNOT APPLICABLE"),
        "{table}"
    );
}

#[test]
fn scan_firmware_attaches_its_findings_to_an_assessment() {
    let image = root().join("target/test-images/weak/weak.xz.squashfs");
    assert!(image.exists(), "run scripts/build-test-images");
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("device.toml");
    fs::write(
        &assessment,
        "[conditions]\n1 = true\n[provision.\"5.1-1\"]\nsupport = \"yes\"\ndetail = \"unique passwords\"\n",
    )
    .unwrap();
    let output = provisor()
        .args(["scan", "firmware"])
        .arg(&image)
        .args(["--format", "json", "--assessment"])
        .arg(&assessment)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(findings["schema"], "provisor.findings/2");
    assert_eq!(findings["edition"], "en303645-v2.1.1");
    let written = directory.path().join("scans/firmware-weak.xz.json");
    assert!(written.exists());
    let source = fs::read_to_string(&assessment).unwrap();
    assert!(
        source.ends_with("[[scan]]\nfile = \"scans/firmware-weak.xz.json\"\n"),
        "{source}"
    );
    // Scanning again does not add the entry twice.
    provisor()
        .args(["scan", "firmware"])
        .arg(&image)
        .args(["-o"])
        .arg(directory.path().join("out.sarif"))
        .args(["--format", "sarif", "--assessment"])
        .arg(&assessment)
        .assert()
        .code(1);
    assert_eq!(
        fs::read_to_string(&assessment)
            .unwrap()
            .matches("[[scan]]")
            .count(),
        1
    );
    // The assessment now fails 5.1-1 on the evidence, against its statement.
    let json: serde_json::Value = serde_json::from_str(&stdout_of(
        provisor()
            .arg("check")
            .arg(&assessment)
            .args(["--format", "json"]),
    ))
    .unwrap();
    let first = &json["provisions"][1];
    assert_eq!(first["verdict"], "fail");
    assert_eq!(first["contradiction"], true);
    let report = stdout_of(
        provisor()
            .arg("report")
            .arg(&assessment)
            .args(["--format", "html"]),
    );
    assert!(report.contains("account root has the well-known password"));
    assert!(report.contains("scans/firmware-weak.xz.json"));
    // The binaries' mitigations are summed up, with the executable stack planted in camd.
    assert!(
        report.contains("<td>non-executable stack (NX)</td><td>36 of 37</td>"),
        "{report}"
    );
    let text = stdout_of(provisor().args(["scan", "firmware"]).arg(&image));
    assert!(text.contains("Exploit mitigations"), "{text}");
    assert!(
        text.contains("least hardened: /usr/sbin/camd (lacks NX"),
        "{text}"
    );
}

/// `unpack` writes the tree a scan sees and says what it did; a second run into the same
/// directory is refused (exit 2) and changes nothing; what cannot be unpacked exits 1; `scan firmware --tree` draws the
/// containers above the findings, and the JSON lists them.
#[test]
fn unpack_writes_the_tree_and_tree_draws_the_containers() {
    let image = root().join("target/test-images/weak/weak.fit");
    assert!(image.exists(), "run scripts/build-test-images");
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("fw");
    let assert = provisor()
        .arg("unpack")
        .arg(&image)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(said.contains("from 3 container(s)"), "{said}");
    assert!(
        said.contains("1 payload(s) under provisor-payloads/"),
        "{said}"
    );
    assert!(out.join("etc/inittab").is_file());
    assert!(out.join("provisor-manifest.json").is_file());
    let refused = provisor()
        .arg("unpack")
        .arg(&image)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2);
    let said = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(said.contains("not an empty directory"), "{said}");
    // What cannot be unpacked (a decompression bomb stopped at the limit) exits 1 and is
    // said; the output's missing parents are made.
    let bomb = root().join("target/test-images/hostile/bomb.gz");
    let stopped = provisor()
        .arg("unpack")
        .arg(&bomb)
        .arg("-o")
        .arg(directory.path().join("new/parent/bomb"))
        .assert()
        .code(1);
    let said = String::from_utf8_lossy(&stopped.get_output().stderr).into_owned();
    assert!(
        said.contains("warning: gzip at offset 0x0 cannot be unpacked"),
        "{said}"
    );
    assert!(
        directory
            .path()
            .join("new/parent/bomb/provisor-manifest.json")
            .is_file()
    );

    let text = stdout_of(provisor().args(["scan", "firmware", "--tree"]).arg(&image));
    let tree: Vec<&str> = text.lines().take(4).collect();
    assert_eq!(tree[0], "Containers (3):", "{text}");
    assert!(tree[1].starts_with("  FIT at 0x0, "), "{text}");
    assert!(
        tree[2].starts_with("  ├─ gzip at 0x0 in images/kernel-1"),
        "{text}"
    );
    assert!(
        tree[3].starts_with("  └─ squashfs at 0x0 in images/rootfs-1")
            && tree[3].ends_with(" entries"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout_of(
        provisor()
            .args(["scan", "firmware", "--format", "json"])
            .arg(&image),
    ))
    .unwrap();
    assert_eq!(json["containers"][2]["parent"], "FIT@0x0 > images/rootfs-1");
}

#[test]
fn a_v3_assessment_gets_the_same_evidence_renumbered() {
    let image = root().join("target/test-images/weak/weak.xz.squashfs");
    assert!(image.exists(), "run scripts/build-test-images");
    let directory = tempfile::tempdir().unwrap();
    let assessment = directory.path().join("device.toml");
    fs::write(&assessment, "edition = \"en303645-v3.1.3\"\n").unwrap();
    provisor()
        .args(["scan", "firmware"])
        .arg(&image)
        .args(["--format", "json", "--assessment"])
        .arg(&assessment)
        .assert()
        .code(1);
    let json = check_json(&assessment);
    assert_eq!(json["edition"], "en303645-v3.1.3");
    let provision = |id: &str| provision_in(&json, id);
    // The shell on ttyS0 is a debug interface and a physical port: both parts of 5.6-4
    // fail, and features r and q are inferred from it.
    for id in ["5.6-4A", "5.6-4B", "5.1-1", "5.4-3"] {
        assert_eq!(provision(id)["verdict"], "fail", "{id}");
    }
    let answers: Vec<(String, bool)> = json["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["answer"].is_null())
        .map(|c| {
            (
                c["id"].to_string().trim_matches('"').to_owned(),
                c["answer"] == true,
            )
        })
        .collect();
    for id in ["a", "d", "e", "g", "j", "k", "q", "r", "12"] {
        assert!(
            answers.iter().any(|(answer, value)| answer == id && *value),
            "{id} in {answers:?}"
        );
    }
}

#[test]
fn scan_firmware_of_a_missing_image_is_invalid_input() {
    let output = provisor()
        .args(["scan", "firmware", "/nonexistent/fw.bin"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read /nonexistent/fw.bin"));
    // A device never ends: it is refused, not read until memory runs out.
    let output = provisor()
        .args(["scan", "firmware", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a regular file"));
}

#[test]
fn advisories_are_imported_and_matched_by_a_scan() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("advisories.json");
    let output = provisor()
        .args(["advisories", "import"])
        .arg(root().join("examples/advisories"))
        .arg("-o")
        .arg(&database)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("imported 5 advisories"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let image = root().join("target/test-images/weak/weak.xz.squashfs");
    let findings: serde_json::Value = serde_json::from_str(&stdout_of(
        provisor()
            .args(["scan", "firmware", "--format", "json", "--advisories"])
            .arg(&database)
            .arg(&image),
    ))
    .unwrap();
    let affected: Vec<&str> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["check"] == "firmware.known-vulnerabilities")
        .filter(|finding| finding["outcome"] == "fail")
        .map(|finding| finding["evidence"]["advisory"].as_str().unwrap())
        .collect();
    assert_eq!(affected.len(), 2, "{affected:?}");
    assert!(affected.contains(&"CVE-2022-28391") && affected.contains(&"CVE-2023-48795"));
}

#[test]
fn malformed_advisories_are_refused_and_nothing_is_written() {
    let directory = tempfile::tempdir().unwrap();
    let source = directory.path().join("osv");
    fs::create_dir(&source).unwrap();
    fs::write(source.join("bad.json"), "{\n  \"id\": 5\n}\n").unwrap();
    let database = directory.path().join("advisories.json");
    let output = provisor()
        .args(["advisories", "import"])
        .arg(&source)
        .arg("-o")
        .arg(&database)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.json:2:"), "{stderr}");
    assert!(!database.exists());
    // A scan given a database that is not one says how to make it.
    let output = provisor()
        .args(["scan", "firmware", "--advisories"])
        .arg(source.join("bad.json"))
        .arg(root().join("target/test-images/weak/weak.xz.squashfs"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("provisor advisories import"));
}

#[test]
fn the_sbom_is_valid_cyclonedx_1_5() {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let mut main = String::new();
    for file in [
        "cyclonedx-bom-1.5.schema.json",
        "cyclonedx-spdx.schema.json",
        "cyclonedx-jsf-0.82.schema.json",
    ] {
        let schema: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(root().join("schemas").join(file)).unwrap())
                .unwrap();
        let id = schema["$id"].as_str().unwrap().to_owned();
        if main.is_empty() {
            main = id.clone();
        }
        compiler.add_resource(&id, schema).unwrap();
    }
    let index = compiler.compile(&main, &mut schemas).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let sbom = directory.path().join("sbom.json");
    provisor()
        .args(["scan", "firmware", "-o"])
        .arg(directory.path().join("findings.txt"))
        .arg("--sbom")
        .arg(&sbom)
        .arg(root().join("target/test-images/weak/weak.fit"))
        .assert()
        .code(1);
    let document: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&sbom).unwrap()).unwrap();
    if let Err(error) = schemas.validate(&document, index) {
        panic!("{error:#}\n{document:#}");
    }
    assert_eq!(document["specVersion"], "1.5");
    // Packages, version strings and the kernel of the FIT's payload are all components;
    // a package and the binaries of its project are one, with a CPE beside its purl.
    let components = document["components"].as_array().unwrap();
    let names: Vec<&str> = components
        .iter()
        .map(|component| component["name"].as_str().unwrap())
        .collect();
    for name in ["busybox-static", "dropbear-bin", "linux", "mosquitto"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let busybox = components
        .iter()
        .find(|component| component["name"] == "busybox-static")
        .unwrap();
    // The version of the Debian package the image was built from (`1:1.35.0-4+deb12u1+b1`),
    // from its file's name: Debian's updates move it.
    let built = fs::read_dir(root().join("target/test-images/debs"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find_map(|name| {
            let version = name.strip_prefix("busybox-static_")?.split('_').next()?;
            Some(version.replace("%3a", ":"))
        })
        .expect("the busybox-static package among the test images' packages");
    let upstream = built
        .split_once(':')
        .map_or(built.as_str(), |(_, rest)| rest);
    let upstream = upstream
        .rsplit_once('-')
        .map_or(upstream, |(upstream, _)| upstream);
    assert_eq!(
        busybox["cpe"],
        format!("cpe:2.3:a:busybox:busybox:{upstream}:*:*:*:*:*:*:*")
    );
    assert_eq!(busybox["purl"], format!("pkg:deb/busybox-static@{built}"));
    let properties = busybox["properties"].to_string();
    assert!(properties.contains("/bin/busybox") && properties.contains("/var/lib/dpkg/status"));
    assert!(
        components
            .iter()
            .all(|component| component["cpe"].is_string()),
        "every component of a known project has a CPE: {components:#?}"
    );
    // The validator itself rejects a broken SBOM.
    let broken = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"name": 5}]});
    assert!(schemas.validate(&broken, index).is_err());
}

/// A live host scan of a real lighttpd on loopback, attached to an assessment, shows in
/// the assessment's report.
#[test]
fn scan_host_attaches_its_findings_to_an_assessment() {
    let directory = tempfile::tempdir().unwrap();
    let site = directory.path().join("www");
    fs::create_dir_all(&site).unwrap();
    fs::write(site.join("index.html"), "hello\n").unwrap();
    let config = directory.path().join("lighttpd.conf");
    fs::write(
        &config,
        format!(
            "server.document-root = \"{}\"\nserver.bind = \"127.0.0.30\"\nserver.port = 48080\n",
            site.display()
        ),
    )
    .unwrap();
    let lighttpd = std::path::Path::new("/usr/sbin/lighttpd");
    assert!(lighttpd.exists(), "run scripts/install-bench");
    let mut server = std::process::Command::new(lighttpd)
        .arg("-D")
        .arg("-f")
        .arg(&config)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect("127.0.0.30:48080").is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "lighttpd did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let assessment = directory.path().join("device.toml");
    fs::write(&assessment, "[conditions]\n1 = true\n").unwrap();
    let output = provisor()
        .args([
            "scan",
            "host",
            "127.0.0.30",
            "--ports",
            "48080,48081",
            "--assessment",
        ])
        .arg(&assessment)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    // lighttpd's Server header tells its version: a failing finding, so exit 1.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("48080/tcp open: http (lighttpd"), "{text}");
    assert!(text.contains("reveals \"lighttpd/"), "{text}");
    assert!(directory.path().join("scans/host-127.0.0.30.json").exists());
    let report = stdout_of(
        provisor()
            .arg("report")
            .arg(&assessment)
            .args(["--format", "html"]),
    );
    assert!(report.contains("scans/host-127.0.0.30.json"), "{report}");
    assert!(
        report.contains("48080/tcp open: http (lighttpd"),
        "{report}"
    );
}
