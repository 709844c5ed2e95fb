//! Fuzz target: the squashfs unpacker alone (backhand, with provisor's lzo and lzma block decoders), both byte orders, on inputs that start with its header (a header that is not
//! plausible is skipped, as carving would).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| provisor_fuzz::unpack("squashfs", data));
