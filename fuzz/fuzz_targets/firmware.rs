//! Fuzz target: carving, every unpacker (squashfs, uImage, streams, cpio, tar) and every
//! check, on an arbitrary image held in memory, with small limits so that each run stays
//! fast. Any panic, hang or unbounded allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

static DEFAULT_PANIC_HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts on every panic, even one provisor catches on purpose (the
    // squashfs decoder's panics on hostile metadata are contained and reported as
    // malformed input). Restore the default hook: a panic that escapes provisor still
    // unwinds out of this closure, and libfuzzer-sys still reports it as a crash.
    DEFAULT_PANIC_HOOK.call_once(|| drop(std::panic::take_hook()));
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
