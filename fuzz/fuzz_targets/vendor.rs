//! Fuzz target: the vendors' wrappers (TP-Link, SEAMA, Netgear CHK, D-Link TLV,
//! Arcadyan, Dahua ZIP, packimg, RTK) and the encrypted families' check, each tried on
//! the input: headers whose sizes and offsets lie, checksums over short data, the
//! de-obfuscation of a short start. Seeds: seeds/vendor (scripts/build-vendor-images.py
//! around tiny images).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for format in [
        "TP-Link", "SEAMA", "CHK", "D-Link-TLV", "arcadyan", "dahua-zip", "packimg", "RTK", "encrypted",
    ] {
        provisor_fuzz::unpack(format, data);
    }
});
