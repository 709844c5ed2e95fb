//! Fuzz target: the squashfs 1.x to 3.x reader (either byte order; zlib and the vendors'
//! LZMA variants): superblocks, metadata chains, packed inodes, directory runs, block
//! lists and fragments, on inputs that start with a superblock (one that is not
//! plausible is skipped, as carving would). Seeds: seeds/squashfs-legacy.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("squashfs", data));
