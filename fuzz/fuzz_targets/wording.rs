//! Fuzz target: the wording-file parser (docs/wording.md) for the current edition. Any
//! panic is a bug; every error must name a line.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let catalog = provisor_catalog::default_edition();
    if let Err(error) = provisor_engine::Wording::parse(data, "fuzz.txt", catalog) {
        assert!(error.place().is_some(), "{error:?}");
    }
});
