//! Fuzz target: the lz4 stream reader: headers, block sizes and checksummed blocks walked
//! by provisor, each block decoded within its declared size, on inputs that start with
//! its magic (as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("lz4", data));
