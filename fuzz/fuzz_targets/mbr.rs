//! Fuzz target: the MBR partition table reader: entries, sector sizes, chains and
//! partitions past the end, on inputs that start with a plausible table (as carving
//! would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("mbr", data));
