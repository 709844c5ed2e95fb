//! Fuzz target: the block decoders provisor implements itself (LZO1X, rtime) or bounds
//! (LZMA, zlib, deflate, zstd); the first byte picks the decoder.
#![no_main]

const CODECS: [&str; 6] = ["lzo", "rtime", "lzma", "zlib", "deflate", "zstd"];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&pick, block)) = data.split_first() {
        provisor_fuzz::let_provisor_contain_panics();
        let _ = provisor_firmware::fuzzing::decode(CODECS[usize::from(pick) % CODECS.len()], block);
    }
});
