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
/// mounted and payloads handed on. Names (case-insensitive): squashfs (4.0 and 1.x to
/// 3.x), uimage, fit, trx, cramfs, romfs, fat, iso9660, ext, jffs2, yaffs2, ubi, ubifs,
/// android-sparse, android-boot, matter-ota, UEFI-capsule, gzip, xz, lzma, zstd, bzip2,
/// cpio, tar, mbr, gpt, zip, 7z, lz4, lz4-legacy, lzop, TP-Link, SEAMA, CHK, D-Link-TLV,
/// arcadyan, dahua-zip, packimg, RTK, encrypted.
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

/// Runs every check on a small root filesystem built around `program`: installed
/// set-uid root as `/usr/sbin/daemon` and as a library, started at boot by an init
/// script, so that the ELF reader and every binary check (hardening, compiled
/// credentials, backdoors, component versions) read it. Returns the number of findings.
pub fn examine_program(program: &[u8]) -> usize {
    use crate::vfs::{Content, Node};
    let program: Arc<[u8]> = Arc::from(program);
    let text = |text: &str| Arc::<[u8]>::from(text.as_bytes());
    let entries: [(&str, u32, Arc<[u8]>); 5] = [
        ("/usr/sbin/daemon", 0o4755, program.clone()),
        ("/usr/lib/libvendor.so.1", 0o644, program),
        ("/etc/inittab", 0o644, text("::sysinit:/etc/init.d/rcS\n")),
        (
            "/etc/init.d/rcS",
            0o755,
            text("#!/bin/sh\nfor s in /etc/init.d/S??*; do $s start; done\n"),
        ),
        (
            "/etc/init.d/S50daemon",
            0o755,
            text("#!/bin/sh\n/usr/sbin/daemon -p 2323 &\n"),
        ),
    ];
    let mut vfs = Vfs::new();
    for (path, mode, bytes) in entries {
        vfs.insert(Node {
            path: path.to_owned(),
            kind: NodeKind::File,
            mode,
            uid: 0,
            gid: 0,
            size: bytes.len() as u64,
            container: Arc::from(""),
            content: Content::Memory(bytes.clone(), 0..bytes.len()),
        });
    }
    let options = crate::ScanOptions {
        limits: limits(),
        tool_version: "fuzz".into(),
        ..Default::default()
    };
    let document = crate::scan::analyse(
        &vfs,
        FindingSink::new(),
        provisor_engine::Target::default(),
        &options,
        std::time::Instant::now(),
    );
    document.findings.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_program_is_examined_and_garbage_is_not_a_program() {
        let program = std::fs::read("/bin/true").expect("/bin/true");
        assert!(examine_program(&program) > 0);
        let mut broken = program.clone();
        broken.truncate(200);
        examine_program(&broken);
        examine_program(b"\x7fELF\x02\x01\x01");
    }
}
