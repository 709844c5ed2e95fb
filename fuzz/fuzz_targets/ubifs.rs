//! Fuzz target: the UBIFS unpacker: master node, index walk and data nodes, on inputs that start with its header (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("ubifs", data));
