//! Fuzz target: the findings-file (`provisor.findings/2`) parser and validator.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ =
            provisor_engine::parse_findings(text, "fuzz.json", provisor_catalog::unnamed_edition());
    }
});
