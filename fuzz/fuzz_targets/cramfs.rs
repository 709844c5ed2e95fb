//! Fuzz target: the cramfs unpacker: superblock, directory walk and block pointers, both byte orders, on inputs that start with its header (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("cramfs", data));
