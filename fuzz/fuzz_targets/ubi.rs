//! Fuzz target: the UBI reader: erase-block headers, the volume table and volume reassembly, on inputs that start with its header (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("ubi", data));
