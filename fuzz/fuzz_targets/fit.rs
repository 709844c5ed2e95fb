//! Fuzz target: the U-Boot FIT reader: the bounded device-tree walk and its image ranges, on inputs that start with its header (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("fit", data));
