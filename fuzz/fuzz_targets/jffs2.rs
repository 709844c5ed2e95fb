//! Fuzz target: the JFFS2 node log: node headers, CRCs, versions and the zlib, lzo, rtime and lzma nodes, on inputs that start with its header (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("jffs2", data));
