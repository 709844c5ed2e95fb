//! Fuzz target: reading a bundle (a tar with a manifest) as `provisor verify` does,
//! without extracting. Any panic, and any read beyond the limits, is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = provisor_bundle::Limits {
        manifest_bytes: 64 * 1024,
        total_bytes: 1 << 20,
        members: 64,
    };
    let _ = provisor_bundle::verify(data, None, None, limits);
});
