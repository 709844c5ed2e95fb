//! Fuzz target: the YAFFS2 reader: geometry and byte order found from the first pages,
//! tags that lie, obsolete copies, parent loops and sizes without chunks, on inputs that
//! start with an object header (one that is not plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("yaffs2", data));
