//! Fuzz target: the romfs unpacker: the header checksum, the chains of file headers
//! (loops, offsets outside the filesystem, hard links), on inputs that start with its
//! header (a header that is not plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("romfs", data));
