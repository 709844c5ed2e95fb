//! Fuzz target: the assessment-file parser, then (when it parses) the whole judgement
//! and every renderer. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provisor_engine::Files;

struct NoFiles;

impl Files for NoFiles {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        Err(format!("{path}: not available while fuzzing"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = provisor_engine::parse(text, "fuzz.toml") else {
        return;
    };
    if let Ok(assessment) = provisor_engine::load(&file, &NoFiles) {
        let context = provisor_report::Context {
            tool_version: "fuzz".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
            source: "fuzz.toml".into(),
        };
        let _ = provisor_report::html(&assessment, &context);
        let _ = provisor_report::markdown(&assessment, &context);
        let _ = provisor_report::sarif(&assessment, &context);
        let _ = provisor_report::ics_csv(&assessment);
        let _ = provisor_report::check_table(&assessment);
    }
});
