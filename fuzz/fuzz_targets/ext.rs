//! Fuzz target: the ext2/3/4 reader: superblock, group descriptors, inodes, block maps,
//! extent trees, directories and inline data, on inputs that start with its header (a
//! header that is not plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("ext", data));
