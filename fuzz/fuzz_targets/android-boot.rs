//! Fuzz target: the Android boot image reader: header versions 0 to 4, page sizes and
//! part sizes that lie, on inputs that start with "ANDROID!" (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("android-boot", data));
