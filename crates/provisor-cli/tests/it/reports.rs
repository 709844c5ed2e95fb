//! Snapshots of every report format for both examples, and the SARIF log validated
//! against the SARIF 2.1.0 schema.

use crate::support::{LAB, MINIMAL, SMARTCAM, in_root, redact, root};

fn report(example: &str, format: &str) -> String {
    let output = in_root()
        .args(["report", example, "--format", format])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    redact(&String::from_utf8(output.stdout).unwrap())
}

#[test]
fn smartcam_reports() {
    insta::assert_snapshot!("smartcam.md", report(SMARTCAM, "md"));
    insta::assert_snapshot!("smartcam.json", report(SMARTCAM, "json"));
    insta::assert_snapshot!("smartcam.sarif", report(SMARTCAM, "sarif"));
    insta::assert_snapshot!("smartcam.csv", report(SMARTCAM, "ics-csv"));
    insta::assert_snapshot!("smartcam.html", report(SMARTCAM, "html"));
}

#[test]
fn lab_reports() {
    insta::assert_snapshot!("lab.md", report(LAB, "md"));
    insta::assert_snapshot!("lab.json", report(LAB, "json"));
    insta::assert_snapshot!("lab.html", report(LAB, "html"));
    insta::assert_snapshot!("lab.csv", report(LAB, "ics-csv"));
}

#[test]
fn minimal_reports() {
    insta::assert_snapshot!("minimal.md", report(MINIMAL, "md"));
    insta::assert_snapshot!("minimal.json", report(MINIMAL, "json"));
    insta::assert_snapshot!("minimal.sarif", report(MINIMAL, "sarif"));
    insta::assert_snapshot!("minimal.csv", report(MINIMAL, "ics-csv"));
    insta::assert_snapshot!("minimal.html", report(MINIMAL, "html"));
}

pub fn sarif_validator() -> (boon::Schemas, boon::SchemaIndex) {
    let path = root().join("schemas/sarif-2.1.0-rtm.5.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let id = schema["id"].as_str().unwrap().to_owned();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource(&id, schema).unwrap();
    let index = compiler.compile(&id, &mut schemas).unwrap();
    (schemas, index)
}

#[test]
fn sarif_logs_are_valid_sarif_2_1_0() {
    let (schemas, index) = sarif_validator();
    for example in [SMARTCAM, MINIMAL] {
        let log: serde_json::Value = serde_json::from_str(&report(example, "sarif")).unwrap();
        if let Err(error) = schemas.validate(&log, index) {
            panic!("{example}: {error:#}");
        }
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 68);
        for result in run["results"].as_array().unwrap() {
            let location = &result["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uri"], example);
            assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        }
    }
    // The validator itself rejects a broken log.
    let broken = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {}}]});
    assert!(schemas.validate(&broken, index).is_err());
}

#[test]
fn the_smartcam_sarif_points_at_the_failing_statement() {
    let log: serde_json::Value = serde_json::from_str(&report(SMARTCAM, "sarif")).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let debug = results.iter().find(|r| r["ruleId"] == "5.6-4").unwrap();
    assert_eq!(debug["level"], "error");
    let line = debug["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap() as usize;
    let source = std::fs::read_to_string(root().join(SMARTCAM)).unwrap();
    assert_eq!(
        source.lines().nth(line - 1).unwrap(),
        "[provision.\"5.6-4\"]"
    );
}

#[test]
fn the_html_report_is_self_contained() {
    let html = report(SMARTCAM, "html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["<link", "<script", "src=\"http", "url(http", "@import"] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("<svg"));
    // Every evidence file is in the register with its SHA-256.
    let digest = "evidence/update-signing.md";
    assert!(html.contains(digest));
    assert_eq!(html.matches("<tr id=\"p-").count(), 68);
}

#[test]
fn firmware_scan_sarif_is_valid_sarif_2_1_0() {
    let image = root().join("target/test-images/weak/weak.bin");
    assert!(image.exists(), "run scripts/build-test-images");
    let output = in_root()
        .args(["scan", "firmware"])
        .arg(&image)
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let (schemas, index) = sarif_validator();
    if let Err(error) = schemas.validate(&log, index) {
        panic!("{error:#}");
    }
    let results = log["runs"][0]["results"].as_array().unwrap();
    let telnet = results
        .iter()
        .find(|result| {
            result["ruleId"] == "firmware.plaintext-login-service" && result["kind"] == "fail"
        })
        .unwrap();
    let location = &telnet["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "etc/inittab");
    assert_eq!(location["region"]["startLine"], 2);
}

/// Validates XML against an XSD of `schemas/` with xmllint (libxml2-utils, installed by
/// scripts/test); the error output when it does not validate.
fn xmllint(xml: &str, schema: &str) -> Result<(), String> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("document.xml");
    std::fs::write(&path, xml).unwrap();
    let output = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(root().join("schemas").join(schema))
        .arg(&path)
        .output()
        .expect("xmllint (libxml2-utils) is installed by scripts/test");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn junit_reports_are_valid_and_count_every_provision_and_test_case() {
    for (example, tests) in [(SMARTCAM, 68), (MINIMAL, 68), (LAB, 68 + 109)] {
        let xml = report(example, "junit");
        xmllint(&xml, "junit.xsd").unwrap_or_else(|error| panic!("{example}: {error}"));
        assert!(
            xml.contains("<testsuites name=\"EN 303 645 V2.1.1: "),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), tests, "{example}");
        assert!(xml.contains(&format!(" tests=\"{tests}\" ")), "{example}");
    }
    let lab = report(LAB, "junit");
    insta::assert_snapshot!("lab.junit", lab);
    // A failing provision is a failure, an open one is skipped with what is left.
    assert!(lab.contains("<testcase classname=\"5.1-5\" name=\"5.1-5-2 functional\" time=\"0\">\n      <skipped message=\"5.1-5-2 functional: INCONCLUSIVE"));
    let smartcam = report(SMARTCAM, "junit");
    assert!(
        smartcam.contains(
            "<failure message=\"the statement says the provision is not met\" type=\"FAIL\">"
        ),
        "{smartcam}"
    );
    // The schema refuses what CI servers could not read.
    assert!(
        xmllint(
            "<testsuites><testsuite name=\"x\"/></testsuites>",
            "junit.xsd"
        )
        .is_err()
    );
}

/// Validates OSCAL documents with compliance-trestle's models (an independent
/// implementation, installed from PyPI into target/oscal-venv by scripts/test).
fn trestle(paths: &[std::path::PathBuf]) -> Result<(), String> {
    let python = root().join("target/oscal-venv/bin/python");
    assert!(
        python.exists(),
        "run scripts/test: it installs compliance-trestle"
    );
    let output = std::process::Command::new(python)
        .arg(root().join("crates/provisor-cli/tests/oscal/validate.py"))
        .args(paths)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[test]
fn oscal_documents_are_valid_for_an_independent_implementation() {
    let directory = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, example) in [("smartcam", SMARTCAM), ("minimal", MINIMAL), ("lab", LAB)] {
        for format in ["oscal-ssp", "oscal-ap", "oscal-ar"] {
            let path = directory.path().join(format!("{name}-{format}.json"));
            std::fs::write(&path, report(example, format)).unwrap();
            paths.push(path);
        }
    }
    trestle(&paths).unwrap();
    let ar: serde_json::Value = serde_json::from_str(&report(LAB, "oscal-ar")).unwrap();
    let findings = ar["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap();
    assert_eq!(findings.len(), 68);
    let first = findings
        .iter()
        .find(|f| f["target"]["target-id"] == "en303645-5.1-1")
        .unwrap();
    assert_eq!(first["title"], "Provision 5.1-1: PASS");
    let ssp: serde_json::Value = serde_json::from_str(&report(LAB, "oscal-ssp")).unwrap();
    assert_eq!(
        ssp["system-security-plan"]["uuid"],
        serde_json::from_str::<serde_json::Value>(&report(LAB, "oscal-ssp")).unwrap()["system-security-plan"]
            ["uuid"],
        "name-based UUIDs make the same document twice"
    );
    insta::assert_snapshot!("lab.oscal-ap", report(LAB, "oscal-ap"));
    // The validator refuses what OSCAL does not allow.
    let mut broken = ar.clone();
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] =
        "open".into();
    let path = directory.path().join("broken.json");
    std::fs::write(&path, broken.to_string()).unwrap();
    assert!(trestle(&[path]).is_err());
}

/// The text of a PDF, page by page, by pdftotext (poppler-utils, installed by
/// scripts/test).
fn pdf_pages(pdf: &[u8]) -> Vec<String> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/test");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .split('\u{c}')
        .filter(|page| !page.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn pdf_of(example: &str) -> Vec<u8> {
    let output = in_root()
        .args(["report", example, "--format", "pdf"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn the_pdf_is_a_lab_report_with_document_control_on_every_page() {
    let pdf = pdf_of(LAB);
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf, pdf_of(LAB), "the same assessment makes the same PDF");
    let pages = pdf_pages(&pdf);
    let count = pages.len();
    assert!(count >= 5, "{count} pages");
    for (number, page) in pages.iter().enumerate() {
        assert!(
            page.contains("Report ACME-LAB-2026-0142 · revision 1"),
            "page {}",
            number + 1
        );
        assert!(
            page.contains(&format!("Page {} of {count}", number + 1)),
            "page {}:\n{page}",
            number + 1
        );
    }
    let text = pages.join("\n");
    for expected in [
        "CONFORMANCE ASSESSMENT REPORT",
        "Document control",
        "Identification of the item tested",
        "Scope and method",
        "Decision rule",
        "Mandatory failures",
        "Results per provision",
        "5.1-1-2 functional: PASS (J. Keller; 2026-11-17",
        "Implementation extra information for testing (IXIT)",
        "Accepted findings",
        "Evidence register",
        "E-001",
        "Sign-off",
        "The results relate only to the item tested",
    ] {
        assert!(text.contains(expected), "{expected} missing from the PDF");
    }
    // The IXIT's secret appears only as its reference.
    assert!(text.contains("$SMARTCAM_ADMIN_PASSWORD"));
    // A self-assessment has no test cases and says it is one.
    let text = pdf_pages(&pdf_of(SMARTCAM)).join("\n");
    assert!(text.contains("SELF-ASSESSMENT REPORT"));
    assert!(!text.contains("conceptual: NOT RUN"));
}
