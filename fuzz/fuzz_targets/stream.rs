//! Fuzz target: the compressed-stream readers (gzip with several members, xz, lzma,
//! zstd, bzip2) within the decompression budget; the first byte picks the format.
#![no_main]

const FORMATS: [&str; 5] = ["gzip", "xz", "lzma", "zstd", "bzip2"];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&pick, stream)) = data.split_first() {
        provisor_fuzz::unpack(FORMATS[usize::from(pick) % FORMATS.len()], stream);
    }
});
