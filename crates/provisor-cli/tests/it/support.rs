//! Helpers: the binary with a fixed clock, paths of the examples, output redaction.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn provisor() -> Command {
    let mut command = Command::cargo_bin("provisor").unwrap();
    command
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env_remove("CLICOLOR_FORCE");
    command
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs provisor in the repository root, so paths in reports are stable.
pub fn in_root() -> Command {
    let mut command = provisor();
    command.current_dir(root());
    command
}

pub const SMARTCAM: &str = "examples/smartcam/assessment.toml";
pub const MINIMAL: &str = "examples/minimal/assessment.toml";
pub const LAB: &str = "examples/smartcam/lab.toml";

/// Replaces the tool version so snapshots survive a release.
pub fn redact(text: &str) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

pub fn stdout_of(command: &mut Command) -> String {
    String::from_utf8(command.output().unwrap().stdout).unwrap()
}

/// `provisor check PATH --format json`, parsed.
pub fn check_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&stdout_of(
        provisor().arg("check").arg(path).args(["--format", "json"]),
    ))
    .unwrap()
}

/// `provisor report PATH --format FORMAT`, as written to standard output.
pub fn report_of(path: &Path, format: &str) -> String {
    stdout_of(
        provisor()
            .arg("report")
            .arg(path)
            .args(["--format", format]),
    )
}

/// The result of provision `id` in an assessment document.
pub fn provision_in(document: &serde_json::Value, id: &str) -> serde_json::Value {
    document["provisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|provision| provision["id"] == id)
        .unwrap_or_else(|| panic!("provision {id} is in the document"))
        .clone()
}
