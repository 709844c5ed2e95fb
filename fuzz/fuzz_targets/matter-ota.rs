//! Fuzz target: the Matter OTA reader: the TLV header (nesting, lengths that lie, missing fields), sizes that do not add up, the digest, on inputs that start with its
//! header (a header that is not plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("matter-ota", data));
