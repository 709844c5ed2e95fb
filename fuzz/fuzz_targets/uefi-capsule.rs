//! Fuzz target: the UEFI capsule reader: header and capsule sizes that lie, on inputs that start with its
//! header (a header that is not plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("UEFI-capsule", data));
