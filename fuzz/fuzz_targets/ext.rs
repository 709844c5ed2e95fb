//! Fuzz target: the ext2/3/4 unpacker (ext4-view): superblock, directory walk and file reads, on inputs that start with its header (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("ext", data));
