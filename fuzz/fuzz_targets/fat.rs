//! Fuzz target: the FAT12/16/32 reader: the BIOS parameter block, cluster chains (loops,
//! clusters outside the volume), directory entries and long names, on inputs that start
//! with a boot sector (one that is not plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("fat", data));
