//! Benchmarks of the report targets: `check` plus the HTML report, and the PDF, on an
//! assessment with all 68 statements and 500 findings, from the assessment text to the
//! rendered report; and `check` plus `plan` of a lab assessment with every test case
//! recorded.
//! It also writes the generated inputs to `target/bench/` so that the whole binary can
//! be timed on them with hyperfine (see docs/PERFORMANCE.md).

use std::collections::BTreeMap;
use std::fmt::Write;

use criterion::{Criterion, criterion_group, criterion_main};
use provisor_engine::Files;

struct Memory(BTreeMap<String, Vec<u8>>);

impl Files for Memory {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| format!("{path}: not found"))
    }
}

/// An assessment answering every condition and stating every provision, and a scan with
/// 500 findings spread over the provisions.
fn inputs() -> (String, String) {
    let catalog = provisor_catalog::unnamed_edition();
    let mut assessment = String::from(
        "edition = \"en303645-v2.1.1\"\n[device]\nmanufacturer = \"Bench\"\nmodel = \"B1\"\nfirmware_version = \"1.0\"\n[conditions]\n",
    );
    for condition in &catalog.conditions {
        let answer = condition.id.as_str() != "3" && condition.id.as_str() != "4";
        let _ = writeln!(assessment, "{} = {answer}", condition.id);
    }
    for provision in &catalog.provisions {
        if provision.derived.is_some() {
            continue;
        }
        let _ = writeln!(
            assessment,
            "[provision.\"{}\"]\nsupport = \"yes\"\ndetail = \"Met as described in the design documentation, section {}.\"\nevidence = [\"https://example.com/{}\"]",
            provision.id, provision.id, provision.id
        );
    }
    assessment.push_str("[[scan]]\nfile = \"scan.json\"\n");
    let outcomes = ["pass", "info", "fail", "inconclusive"];
    let findings: Vec<serde_json::Value> = (0..500)
        .map(|index| {
            let provision = &catalog.provisions[1 + index % 67].id;
            serde_json::json!({
                "id": format!("{index:016x}"),
                "check": "firmware.bench",
                "provisions": [provision],
                "outcome": outcomes[index % 4],
                "severity": "medium",
                "title": format!("observation {index} on {provision}"),
                "detail": "A longer description of what the check saw and why it matters.",
                "location": {"path": format!("/etc/config/file{index}"), "line": index},
                "evidence": {"note": "redacted"}
            })
        })
        .collect();
    let scan = serde_json::json!({
        "schema": "provisor.findings/1",
        "tool": {"name": "provisor", "version": "0.1.0"},
        "target": {"kind": "firmware", "path": "bench.bin"},
        "duration_ms": 1,
        "findings": findings,
    });
    (assessment, serde_json::to_string_pretty(&scan).unwrap())
}

fn check_and_html(criterion: &mut Criterion) {
    let (assessment, scan) = inputs();
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&directory).is_ok() {
        let _ = std::fs::write(directory.join("assessment.toml"), &assessment);
        let _ = std::fs::write(directory.join("scan.json"), &scan);
    }
    let files = Memory(BTreeMap::from([(
        "scan.json".to_owned(),
        scan.into_bytes(),
    )]));
    let context = provisor_report::Context {
        tool_version: "bench".into(),
        generated_at: "2026-01-01T00:00:00Z".into(),
        source: "assessment.toml".into(),
    };
    criterion.bench_function("check + html, 68 statements, 500 findings", |bencher| {
        bencher.iter(|| {
            let file = provisor_engine::parse(&assessment, "assessment.toml").unwrap();
            let judged = provisor_engine::load(&file, &files).unwrap();
            let table = provisor_report::check_table(&judged);
            let html = provisor_report::html(&judged, &context);
            (table.len(), html.len())
        })
    });
}

/// The same assessment as a lab assessment, with a record of every test case and an IXIT
/// entry in every table.
fn lab_inputs(assessment: &str) -> String {
    let catalog = provisor_catalog::unnamed_edition();
    let mut lab = assessment.replacen(
        "edition = \"en303645-v2.1.1\"\n",
        "edition = \"en303645-v2.1.1\"\nkind = \"lab\"\n",
        1,
    );
    for provision in &catalog.provisions {
        for case in &provision.test_cases {
            let _ = writeln!(
                lab,
                "[test.\"{}\"]\nverdict = \"pass\"\nassessor = \"A. Assessor\"\ndate = 2026-11-02\nmethod = \"As the test case describes.\"",
                case.id
            );
        }
    }
    for table in &catalog.ixit {
        let _ = writeln!(
            lab,
            "[[ixit.\"{}\"]]\nid = \"{}-1\"\ndescription = \"The manufacturer's declaration.\"",
            table.id, table.id
        );
    }
    lab
}

fn context() -> provisor_report::Context {
    provisor_report::Context {
        tool_version: "bench".into(),
        generated_at: "2026-01-01T00:00:00Z".into(),
        source: "assessment.toml".into(),
    }
}

fn pdf(criterion: &mut Criterion) {
    let (assessment, scan) = inputs();
    let files = Memory(BTreeMap::from([(
        "scan.json".to_owned(),
        scan.into_bytes(),
    )]));
    let context = context();
    let file = provisor_engine::parse(&assessment, "assessment.toml").unwrap();
    let judged = provisor_engine::load(&file, &files).unwrap();
    // The fonts are parsed once per process; the first PDF pays for it.
    let first = std::time::Instant::now();
    let _ = provisor_report::pdf(&judged, &context).unwrap();
    eprintln!("first PDF of the process: {:?}", first.elapsed());
    let mut group = criterion.benchmark_group("pdf");
    group.sample_size(20);
    group.bench_function("check + pdf, 68 statements, 500 findings", |bencher| {
        bencher.iter(|| {
            let file = provisor_engine::parse(&assessment, "assessment.toml").unwrap();
            let judged = provisor_engine::load(&file, &files).unwrap();
            provisor_report::pdf(&judged, &context).unwrap().len()
        })
    });
    group.finish();
}

fn lab_check_and_plan(criterion: &mut Criterion) {
    let (assessment, scan) = inputs();
    let lab = lab_inputs(&assessment);
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&directory).is_ok() {
        let _ = std::fs::write(directory.join("lab.toml"), &lab);
    }
    let files = Memory(BTreeMap::from([(
        "scan.json".to_owned(),
        scan.into_bytes(),
    )]));
    criterion.bench_function(
        "lab check + plan, 109 test cases, 500 findings",
        |bencher| {
            bencher.iter(|| {
                let file = provisor_engine::parse(&lab, "lab.toml").unwrap();
                let judged = provisor_engine::load(&file, &files).unwrap();
                let table = provisor_report::check_table(&judged);
                let items = provisor_engine::plan(&judged);
                let plan = provisor_report::plan_table(&judged, &items);
                (table.len(), plan.len())
            })
        },
    );
}

criterion_group!(benches, check_and_html, pdf, lab_check_and_plan);
criterion_main!(benches);
