//! docs/checks.md is generated from the doc comments of the firmware and network checks;
//! this test regenerates it and fails when the committed file differs (`UPDATE_DOCS=1`
//! rewrites it).

use std::fs;
use std::path::{Path, PathBuf};

/// Every check source file, in registry-independent path order.
fn check_files(directory: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            check_files(&path, files);
        } else if path.file_name().is_some_and(|name| name != "mod.rs") {
            files.push(path);
        }
    }
}

/// The value of `field: "…"` or `field: &["…", …]` in a check's META.
fn field<'a>(source: &'a str, name: &str) -> &'a str {
    let start = source.find(&format!("    {name}: ")).unwrap() + name.len() + 6;
    let end = source[start..].find(",\n").unwrap() + start;
    &source[start..end]
}

/// The sections of one crate's checks, sorted by id.
fn sections(krate: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate);
    let mut files = Vec::new();
    check_files(&root.join("src/checks"), &mut files);
    let mut sections = Vec::new();
    for file in files {
        let source = fs::read_to_string(&file).unwrap();
        // Helpers shared by checks (configuration readers) are not checks.
        if !source.contains("static META: CheckMeta") {
            continue;
        }
        let id = field(&source, "id").trim_matches('"');
        let title = field(&source, "title").trim_matches('"');
        let mut title_chars = title.chars();
        let title: String = title_chars
            .next()
            .map(|first| first.to_uppercase().chain(title_chars).collect())
            .unwrap_or_default();
        let provisions = field(&source, "provisions")
            .trim_start_matches("&[")
            .trim_end_matches(']')
            .replace('"', "");
        // The doc comment right above `pub struct`.
        let lines: Vec<&str> = source.lines().collect();
        let struct_line = lines
            .iter()
            .position(|line| line.starts_with("pub struct"))
            .unwrap();
        let mut doc: Vec<&str> = lines[..struct_line]
            .iter()
            .rev()
            .take_while(|line| line.starts_with("///"))
            .map(|line| line.trim_start_matches("///").trim())
            .collect();
        doc.reverse();
        let relative = file.strip_prefix(&root).unwrap().display().to_string();
        // In V3.1.3: what the finding rules carry the provisions to, whatever is found.
        let v3 = provisor_catalog::edition("en303645-v3.1.3").unwrap();
        let named: Vec<String> = provisions.split(", ").map(str::to_owned).collect();
        let mut carried: Vec<&str> = v3.carry_finding(id, &named, |_| None);
        for rule in v3.finding_rules.iter().filter(|rule| rule.check == id) {
            for to in &rule.to {
                if !carried.contains(&to.as_str()) {
                    carried.push(to);
                }
            }
        }
        sections.push((
            id.to_owned(),
            format!(
                "### `{id}`\n\n{title}. Provisions: {provisions} (V2.1.1); {} (V3.1.3). Source: `crates/{krate}/{relative}`.\n\n{}\n",
                carried.join(", "),
                doc.join("\n")
            ),
        ));
    }
    sections.sort();
    sections
}

/// A source file's `//!` paragraphs: all of them, or the first.
fn module_doc(path: &Path, first_only: bool) -> String {
    let source = fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = source
        .lines()
        .take_while(|line| line.starts_with("//!"))
        .map(|line| line.trim_start_matches("//!").trim())
        .collect();
    let end = if first_only {
        lines
            .iter()
            .position(|line| line.is_empty())
            .unwrap_or(lines.len())
    } else {
        lines.len()
    };
    lines[..end].join("\n")
}

/// The unpacking section: what the unpacker does (its module's doc) and each format's
/// reader with the first paragraph of its doc.
fn unpacking() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisor-firmware/src/unpack");
    let mut out = format!(
        "## Unpacking (`firmware.unpack`)\n\n{}\n\nThose findings are the check `firmware.unpack`'s (provision 5.6-1). `provisor unpack IMAGE -o DIR`\nwrites what the scan sees into `DIR`, with `DIR/provisor-manifest.json`.\n\n### Source files\n\n",
        module_doc(&root.join("mod.rs"), false)
    );
    let mut files = Vec::new();
    check_files(&root, &mut files);
    for directory in ["squashfs_legacy", "vendor"] {
        files.push(root.join(directory).join("mod.rs"));
    }
    files.sort();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap().display().to_string();
        let doc = module_doc(&file, true).replace('\n', " ");
        out.push_str(&format!("- `unpack/{relative}`: {doc}\n"));
    }
    out.push('\n');
    out
}

fn generate() -> String {
    let mut out = String::from(
        "# Checks\n\nGenerated from the doc comments of `crates/provisor-firmware/src/checks/` and\n`crates/provisor-net/src/checks/`; do not edit by hand (`UPDATE_DOCS=1 cargo test -p\nprovisor-cli` regenerates it). The checks name provisions of EN 303 645 V2.1.1; a\nV3.1.3 assessment reads them through the rules of\n`crates/provisor-catalog/data/en303645-v3.1.3/findings.toml` (a split provision's parts\nby check and by what was found), listed here as the V3.1.3 provisions.\n\n",
    );
    for (heading, krate) in [
        (
            "Firmware checks (`provisor scan firmware`)",
            "provisor-firmware",
        ),
        ("Network checks (`provisor scan host`)", "provisor-net"),
    ] {
        out.push_str(&format!("## {heading}\n\n"));
        for (_, section) in sections(krate) {
            out.push_str(&section);
            out.push('\n');
        }
        if krate == "provisor-firmware" {
            out.push_str(&unpacking());
        }
    }
    out.trim_end().to_owned() + "\n"
}

#[test]
fn docs_checks_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks.md");
    let generated = generate();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        fs::write(&path, &generated).unwrap();
    }
    let committed = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/checks.md is out of date: run UPDATE_DOCS=1 cargo test -p provisor-cli"
    );
}

/// Every check of both scanners is mapped to the test cases it informs in every
/// edition, its provisions carry into every edition, and every mapping names a real check
/// and a test case of a provision the check reports on there.
#[test]
fn every_check_is_mapped_to_the_test_cases_it_informs() {
    let mut checks: Vec<(&str, &[&str])> = provisor_firmware::checks::all()
        .iter()
        .map(|check| (check.meta().id, check.meta().provisions))
        .chain(
            provisor_net::checks::all()
                .iter()
                .map(|check| (check.meta().id, check.meta().provisions)),
        )
        .collect();
    // Unpacking problems are recorded outside the registry.
    checks.push(("firmware.unpack", &["5.6-1"]));
    for catalog in provisor_catalog::editions() {
        let mapped: Vec<&str> = catalog
            .check_tests
            .iter()
            .map(|entry| entry.check.as_str())
            .collect();
        for (id, provisions) in &checks {
            assert!(
                mapped.contains(id),
                "{}: check {id} is mapped to no test case",
                catalog.id
            );
            // The check names provisions of the checks' edition; in another edition its
            // findings bear on what the finding rules carry them to, whatever was found.
            let named: Vec<String> = provisions.iter().map(|p| (*p).to_owned()).collect();
            let mut carried: Vec<&str> = if catalog.id == provisor_catalog::CHECKS_EDITION {
                provisions.to_vec()
            } else {
                catalog.carry_finding(id, &named, |_| None)
            };
            for rule in catalog
                .finding_rules
                .iter()
                .filter(|rule| rule.check == *id)
            {
                assert!(
                    provisions.contains(&rule.from.as_str()),
                    "{id}: {}",
                    rule.from
                );
                carried.extend(rule.to.iter().map(String::as_str));
            }
            assert!(carried.len() >= provisions.len(), "{id}: {carried:?}");
            for provision in &carried {
                assert!(catalog.provision(provision).is_some(), "{id}: {provision}");
            }
            for test_case in catalog.tests_of_check(id) {
                let (provision, _) = catalog.test_case(test_case).unwrap();
                assert!(
                    carried.contains(&provision.id.as_str()),
                    "{}: check {id} is mapped to {test_case}, but reports on {carried:?}",
                    catalog.id
                );
            }
        }
        for id in mapped {
            assert!(
                checks.iter().any(|(check, _)| *check == id),
                "{}: {id} is mapped but is no check",
                catalog.id
            );
        }
        assert!(catalog.problems().is_empty(), "{:?}", catalog.problems());
    }
}
