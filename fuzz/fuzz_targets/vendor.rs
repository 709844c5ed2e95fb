//! Fuzz target: the vendors' wrappers (TP-Link v1, v2/v3 and RTOS, SEAMA, Netgear CHK,
//! D-Link TLV, JBOOT's update header, STAG and SCH2, Arcadyan, Dahua ZIP, packimg, RTK),
//! the CSman configuration store and the encrypted families' check, each tried on
//! the input: headers whose sizes and offsets lie, checksums over short data, the
//! de-obfuscation of a short start. Seeds: seeds/vendor (scripts/build-vendor-images.py
//! around tiny images).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for format in [
        "TP-Link",
        "TP-Link-v2",
        "TP-Link-RTOS",
        "SEAMA",
        "CHK",
        "D-Link-TLV",
        "JBOOT",
        "JBOOT-STAG",
        "JBOOT-SCH2",
        "CSman",
        "arcadyan",
        "dahua-zip",
        "packimg",
        "RTK",
        "encrypted",
    ] {
        provisor_fuzz::unpack(format, data);
    }
});
