//! Fuzz target: the 7-Zip reader (sevenz-rust2 behind the start header's check, its
//! panics contained): headers, coders and sizes that lie, solid blocks, on inputs that
//! start with the signature (a header that is not plausible is skipped, as carving
//! would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("7z", data));
