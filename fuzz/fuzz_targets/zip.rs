//! Fuzz target: the ZIP reader: the end record and central directory, the local headers
//! of a cut archive, every member decompressed (stored, deflate, bzip2, LZMA, zstd, xz),
//! on inputs that start with a local header (as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("zip", data));
