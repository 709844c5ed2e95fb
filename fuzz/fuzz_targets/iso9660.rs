//! Fuzz target: the ISO 9660 reader: volume descriptors, directory records across
//! sectors, Rock Ridge entries (names, modes, links, continuation areas, relocated
//! directories) and Joliet names, on inputs that hold a primary volume descriptor at
//! sector 16 (one that is not plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("iso9660", data));
