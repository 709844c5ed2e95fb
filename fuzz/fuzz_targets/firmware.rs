//! Fuzz target: carving, every unpacker and every
//! check, on an arbitrary image held in memory, with small limits so that each run stays
//! fast. Any panic, hang or unbounded allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    provisor_fuzz::let_provisor_contain_panics();
    let options = provisor_firmware::ScanOptions {
        limits: provisor_firmware::Limits {
            max_total_bytes: 64 << 20,
            max_files: 10_000,
            ..Default::default()
        },
        tool_version: "fuzz".into(),
        ..Default::default()
    };
    let _ = provisor_firmware::scan_bytes(data.to_vec(), "fuzz.bin", &options);
});
