//! Entry points for the fuzz targets in `fuzz/`: one container format or one block
//! decoder at a time, so that each parser is fuzzed on inputs shaped for it rather than
//! only through carving. Not part of the supported API.

use std::sync::Arc;

use crate::sandbox::{Limits, Sandbox};
use crate::unpack::{self, Blob, Format};
use crate::vfs::{NodeKind, Vfs};
use provisor_engine::FindingSink;

/// Small limits, so that every fuzz run stays fast.
fn limits() -> Limits {
    Limits {
        max_total_bytes: 64 << 20,
        max_files: 10_000,
        ..Limits::default()
    }
}

/// Opens `data` as the named container at offset 0, when its header is plausible (as
/// carving would), then reads every file it mounted. Returns the number of entries
/// mounted and payloads handed on. Names: squashfs, uimage, fit, trx, cramfs, ext,
/// jffs2, ubi, ubifs, android-sparse, gzip, xz, lzma, zstd, bzip2, cpio, tar.
pub fn unpack_as(format: &str, data: &[u8]) -> usize {
    let Some(format) = Format::from_name(format) else {
        return 0;
    };
    if !unpack::plausible(format, data) {
        return 0;
    }
    let mut sandbox = Sandbox::new(limits(), data.len() as u64);
    let mut vfs = Vfs::new();
    let mut sink = FindingSink::new();
    let parts = unpack::open_one(
        Blob::Memory(Arc::from(data)),
        format,
        &mut sandbox,
        &mut vfs,
        &mut sink,
    );
    let limit = sandbox.limits().max_file_read;
    let files: Vec<String> = vfs
        .nodes()
        .filter(|node| node.kind == NodeKind::File)
        .map(|node| node.path.clone())
        .collect();
    for path in &files {
        let _ = vfs.read(path, limit);
    }
    vfs.len() + parts
}

/// Runs one of the block decoders provisor implements or bounds itself: lzo, rtime,
/// lzma (alone), zlib, deflate, zstd. Returns whether the input decoded.
pub fn decode(codec: &str, data: &[u8]) -> bool {
    unpack::decode(codec, data)
}
