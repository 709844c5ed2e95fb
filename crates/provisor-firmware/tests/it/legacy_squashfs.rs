//! SquashFS 1.x, 2.x and 3.x, which no Debian package writes any more: the weak device's
//! tree written here, from bytes, in either byte order, with zlib and with the LZMA
//! variants vendors patched in (the sqlzma "alone" header, Broadcom's property bytes
//! behind a vendor's own, a bare stream with uncommon properties). Each zlib image is
//! first read by Debian's `unsquashfs`, which reads every 1.x to 3.x gzip filesystem in
//! either order, so that what is written is the real layout and not only what provisor
//! reads; each image is then unpacked by provisor file by file as built, and scanned.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::formats::finds_the_weak_device;
use crate::images;
use crate::unpack::unpacked_as_built;

/// How blocks are compressed.
#[derive(Debug, Clone, Copy)]
enum Compression {
    Zlib,
    /// The sqlzma patch's blocks (OpenWrt, many SoC vendors): LZMA's 13-byte header.
    LzmaAlone,
    /// Broadcom's: the properties and dictionary size, then the stream, behind `skip`
    /// bytes of the vendor's own.
    LzmaProperties {
        skip: usize,
    },
    /// A bare stream whose properties only the vendor's kernel knew.
    LzmaBare {
        lc: u32,
        lp: u32,
        pb: u32,
    },
}

/// What to write.
#[derive(Debug, Clone, Copy)]
struct Layout {
    version: u16,
    big: bool,
    compression: Compression,
    /// Metadata blocks with the check byte.
    check: bool,
    /// Large directory and file inodes (2.x and 3.x).
    large: bool,
    magic: &'static [u8; 4],
}

const METADATA: usize = 8192;

/// A packed structure under construction: fields set at bit positions, laid out as the
/// byte order lays out bit fields (from the least or the most significant bit).
struct Fields {
    bytes: Vec<u8>,
    big: bool,
}

impl Fields {
    fn new(size: usize, big: bool) -> Fields {
        Fields {
            bytes: vec![0; size],
            big,
        }
    }

    fn put(&mut self, at: usize, bits: usize, value: u64) -> &mut Fields {
        let (first, shift) = (at / 8, at % 8);
        let span = (shift + bits).div_ceil(8);
        let mask = (1u128 << bits) - 1;
        let value = u128::from(value) & mask;
        let window = &mut self.bytes[first..first + span];
        if self.big {
            let word = window
                .iter()
                .fold(0u128, |word, &byte| word << 8 | u128::from(byte));
            let at = span * 8 - shift - bits;
            let word = word & !(mask << at) | value << at;
            for (index, byte) in window.iter_mut().enumerate() {
                *byte = (word >> (8 * (span - 1 - index))) as u8;
            }
        } else {
            let word = window
                .iter()
                .enumerate()
                .fold(0u128, |word, (index, &byte)| {
                    word | u128::from(byte) << (8 * index)
                });
            let word = word & !(mask << shift) | value << shift;
            for (index, byte) in window.iter_mut().enumerate() {
                *byte = (word >> (8 * index)) as u8;
            }
        }
        self
    }
}

impl Compression {
    fn compress(self, data: &[u8]) -> Vec<u8> {
        let lzma = |lc: u32, lp: u32, pb: u32| {
            let mut options = liblzma::stream::LzmaOptions::new_preset(1).unwrap();
            options
                .literal_context_bits(lc)
                .literal_position_bits(lp)
                .position_bits(pb)
                .dict_size(1 << 16);
            let mut filters = liblzma::stream::Filters::new();
            filters.lzma1(&options);
            let mut stream = liblzma::stream::Stream::new_raw_encoder(&filters).unwrap();
            let mut out = Vec::with_capacity(data.len() * 2 + 64);
            let status = stream
                .process_vec(data, &mut out, liblzma::stream::Action::Finish)
                .unwrap();
            assert_eq!(status, liblzma::stream::Status::StreamEnd);
            out
        };
        match self {
            Compression::Zlib => {
                let mut encoder =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(data).unwrap();
                encoder.finish().unwrap()
            }
            Compression::LzmaAlone => {
                let mut out = vec![0x5d];
                out.extend_from_slice(&(1u32 << 16).to_le_bytes());
                out.extend_from_slice(&(data.len() as u64).to_le_bytes());
                out.extend(lzma(3, 0, 2));
                out
            }
            Compression::LzmaProperties { skip } => {
                let mut out = vec![0xa5; skip];
                out.push(0x5d);
                out.extend_from_slice(&(1u32 << 16).to_le_bytes());
                out.extend(lzma(3, 0, 2));
                out
            }
            Compression::LzmaBare { lc, lp, pb } => lzma(lc, lp, pb),
        }
    }
}

/// A metadata stream: 8 KiB blocks, each compressed behind its 2-byte length.
struct Metadata {
    written: Vec<u8>,
    pending: Vec<u8>,
}

impl Metadata {
    fn new() -> Metadata {
        Metadata {
            written: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Where the next byte goes: the block (from the stream's start) and the offset.
    fn position(&self) -> (u64, usize) {
        (self.written.len() as u64, self.pending.len())
    }

    fn append(&mut self, layout: &Layout, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        while self.pending.len() >= METADATA {
            let block: Vec<u8> = self.pending.drain(..METADATA).collect();
            self.emit(layout, &block);
        }
    }

    fn emit(&mut self, layout: &Layout, block: &[u8]) {
        let compressed = layout.compression.compress(block);
        let (stored, word) = if compressed.len() < block.len() {
            let length = compressed.len() as u16;
            (compressed, length)
        } else {
            (block.to_vec(), block.len() as u16 | 0x8000)
        };
        let mut header = Fields::new(2, layout.big);
        header.put(0, 16, u64::from(word));
        self.written.extend(header.bytes);
        if layout.check {
            self.written.push(0xff);
        }
        self.written.extend(stored);
    }

    fn finish(mut self, layout: &Layout) -> Vec<u8> {
        if !self.pending.is_empty() {
            let block = std::mem::take(&mut self.pending);
            self.emit(layout, &block);
        }
        self.written
    }
}

/// A node of the tree being written.
enum Tree {
    Directory(BTreeMap<Vec<u8>, Tree>, fs::Metadata),
    File(Vec<u8>, fs::Metadata),
    Link(Vec<u8>, fs::Metadata),
}

fn read_tree(path: &Path) -> Tree {
    let metadata = fs::symlink_metadata(path).unwrap();
    if metadata.file_type().is_symlink() {
        let target = fs::read_link(path).unwrap();
        Tree::Link(target.into_os_string().into_encoded_bytes(), metadata)
    } else if metadata.is_dir() {
        let children = fs::read_dir(path)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (
                    entry.file_name().into_encoded_bytes(),
                    read_tree(&entry.path()),
                )
            })
            .collect();
        Tree::Directory(children, metadata)
    } else {
        Tree::File(fs::read(path).unwrap(), metadata)
    }
}

/// An inode written: where it is and what type a directory entry gives it.
#[derive(Clone, Copy)]
struct Written {
    block: u64,
    offset: usize,
    kind: u64,
    number: u32,
}

struct Writer {
    layout: Layout,
    block_size: usize,
    out: Vec<u8>,
    inodes: Metadata,
    directories: Metadata,
    fragments: Vec<(u64, u32)>,
    fragment: Vec<u8>,
    uids: Vec<u32>,
    gids: Vec<u32>,
    count: u32,
}

/// The superblock's size (3.x's, written for every version).
const SUPERBLOCK: usize = 119;

impl Writer {
    fn new(layout: Layout) -> Writer {
        Writer {
            layout,
            block_size: if layout.version == 1 { 32768 } else { 65536 },
            out: vec![0; SUPERBLOCK],
            inodes: Metadata::new(),
            directories: Metadata::new(),
            fragments: Vec::new(),
            fragment: Vec::new(),
            uids: Vec::new(),
            gids: Vec::new(),
            count: 0,
        }
    }

    /// The owner's and group's table indexes (the group as "the owner's" when equal).
    fn ids(&mut self, metadata: &fs::Metadata) -> (u64, u64) {
        let index = |table: &mut Vec<u32>, id: u32| {
            table
                .iter()
                .position(|&known| known == id)
                .unwrap_or_else(|| {
                    table.push(id);
                    table.len() - 1
                }) as u64
        };
        let uid = index(&mut self.uids, metadata.uid());
        let gid = if metadata.gid() == metadata.uid() {
            if self.layout.version == 1 { 15 } else { 255 }
        } else {
            index(&mut self.gids, metadata.gid())
        };
        (uid, gid)
    }

    /// An inode's common part: type, mode and owners (1.x folds the owner's high bits
    /// into the type), and 3.x's time and number.
    fn base(&mut self, size: usize, kind: u64, metadata: &fs::Metadata) -> Fields {
        let (uid, gid) = self.ids(metadata);
        self.count += 1;
        let mut fields = Fields::new(size, self.layout.big);
        let mode = u64::from(metadata.permissions().mode() & 0o7777);
        match self.layout.version {
            1 => fields
                .put(0, 4, kind + 5 * (uid / 16))
                .put(4, 12, mode)
                .put(16, 4, uid % 16)
                .put(20, 4, gid),
            2 => fields
                .put(0, 4, kind)
                .put(4, 12, mode)
                .put(16, 8, uid)
                .put(24, 8, gid),
            _ => fields
                .put(0, 4, kind)
                .put(4, 12, mode)
                .put(16, 8, uid)
                .put(24, 8, gid)
                .put(32, 32, metadata.mtime() as u64)
                .put(64, 32, u64::from(self.count)),
        };
        fields
    }

    fn add_inode(&mut self, fields: Fields, tail: &[u8], kind: u64) -> Written {
        let (block, offset) = self.inodes.position();
        let layout = self.layout;
        self.inodes.append(&layout, &fields.bytes);
        self.inodes.append(&layout, tail);
        Written {
            block,
            offset,
            kind,
            number: self.count,
        }
    }

    fn write_file(&mut self, content: &[u8], metadata: &fs::Metadata) -> Written {
        let version = self.layout.version;
        let block_size = self.block_size;
        let tail = if version == 1 {
            0
        } else {
            content.len() % block_size
        };
        let start = self.out.len() as u64;
        let mut list = Vec::new();
        for block in content[..content.len() - tail].chunks(block_size) {
            let compressed = self.layout.compression.compress(block);
            let (stored, flag) = if compressed.len() < block.len() {
                (compressed, 0)
            } else {
                (block.to_vec(), if version == 1 { 0x8000 } else { 1 << 24 })
            };
            let mut entry = Fields::new(if version == 1 { 2 } else { 4 }, self.layout.big);
            entry.put(
                0,
                if version == 1 { 16 } else { 32 },
                stored.len() as u64 | flag,
            );
            list.extend(entry.bytes);
            self.out.extend(stored);
        }
        let (fragment, offset) = if tail > 0 {
            if self.fragment.len() + tail > block_size {
                self.flush_fragment();
            }
            let place = (self.fragments.len() as u64, self.fragment.len() as u64);
            self.fragment
                .extend_from_slice(&content[content.len() - tail..]);
            place
        } else {
            (0xffff_ffff, 0)
        };
        let size = content.len() as u64;
        let large = self.layout.large && version == 3;
        let kind = if large { 9 } else { 2 };
        let mut fields = match version {
            1 => self.base(15, 2, metadata),
            2 => self.base(24, 2, metadata),
            _ => self.base(if large { 40 } else { 32 }, kind, metadata),
        };
        match (version, large) {
            (1, _) => fields
                .put(24, 32, metadata.mtime() as u64)
                .put(56, 32, start)
                .put(88, 32, size),
            (2, _) => fields
                .put(32, 32, metadata.mtime() as u64)
                .put(64, 32, start)
                .put(96, 32, fragment)
                .put(128, 32, offset)
                .put(160, 32, size),
            (_, false) => fields
                .put(96, 64, start)
                .put(160, 32, fragment)
                .put(192, 32, offset)
                .put(224, 32, size),
            (_, true) => fields
                .put(96, 32, 1)
                .put(128, 64, start)
                .put(192, 32, fragment)
                .put(224, 32, offset)
                .put(256, 64, size),
        };
        self.add_inode(fields, &list, 2)
    }

    fn flush_fragment(&mut self) {
        if self.fragment.is_empty() {
            return;
        }
        let block = std::mem::take(&mut self.fragment);
        let compressed = self.layout.compression.compress(&block);
        let start = self.out.len() as u64;
        let stored = if compressed.len() < block.len() {
            self.out.extend(&compressed);
            compressed.len() as u32
        } else {
            self.out.extend(&block);
            block.len() as u32 | 1 << 24
        };
        self.fragments.push((start, stored));
    }

    fn write_link(&mut self, target: &[u8], metadata: &fs::Metadata) -> Written {
        let length = target.len() as u64;
        let fields = match self.layout.version {
            1 => {
                let mut fields = self.base(5, 3, metadata);
                fields.put(24, 16, length);
                fields
            }
            2 => {
                let mut fields = self.base(6, 3, metadata);
                fields.put(32, 16, length);
                fields
            }
            _ => {
                let mut fields = self.base(18, 3, metadata);
                fields.put(96, 32, 1).put(128, 16, length);
                fields
            }
        };
        self.add_inode(fields, target, 3)
    }

    fn write_directory(
        &mut self,
        children: &BTreeMap<Vec<u8>, Tree>,
        metadata: &fs::Metadata,
    ) -> Written {
        let mut written = Vec::new();
        for (name, child) in children {
            let inode = match child {
                Tree::Directory(grandchildren, metadata) => {
                    self.write_directory(grandchildren, metadata)
                }
                Tree::File(content, metadata) => self.write_file(content, metadata),
                Tree::Link(target, metadata) => self.write_link(target, metadata),
            };
            written.push((name.clone(), inode));
        }
        let (block, offset) = self.directories.position();
        let listing = self.listing(&written);
        let layout = self.layout;
        self.directories.append(&layout, &listing);
        let size = listing.len() as u64;
        let large = self.layout.large && self.layout.version > 1;
        let fields = match (self.layout.version, large) {
            (1, _) => {
                let mut fields = self.base(14, 1, metadata);
                fields
                    .put(24, 19, size)
                    .put(43, 13, offset as u64)
                    .put(56, 32, metadata.mtime() as u64)
                    .put(88, 24, block);
                fields
            }
            (2, false) => {
                let mut fields = self.base(15, 1, metadata);
                fields
                    .put(32, 19, size)
                    .put(51, 13, offset as u64)
                    .put(64, 32, metadata.mtime() as u64)
                    .put(96, 24, block);
                fields
            }
            (2, true) => {
                let mut fields = self.base(18, 8, metadata);
                fields
                    .put(32, 27, size)
                    .put(59, 13, offset as u64)
                    .put(72, 32, metadata.mtime() as u64)
                    .put(104, 24, block)
                    .put(128, 16, 0);
                fields
            }
            (_, false) => {
                let mut fields = self.base(28, 1, metadata);
                fields
                    .put(96, 32, 2)
                    .put(128, 19, size + 3)
                    .put(147, 13, offset as u64)
                    .put(160, 32, block)
                    .put(192, 32, 0);
                fields
            }
            (_, true) => {
                let mut fields = self.base(31, 8, metadata);
                fields
                    .put(96, 32, 2)
                    .put(128, 27, size + 3)
                    .put(155, 13, offset as u64)
                    .put(168, 32, block)
                    .put(200, 16, 0)
                    .put(216, 32, 0);
                fields
            }
        };
        self.add_inode(fields, &[], 1)
    }

    /// A directory's listing: runs of up to 256 entries whose inodes share a metadata
    /// block (and, in 3.x, an inode number within 16 bits), each behind a header.
    fn listing(&self, entries: &[(Vec<u8>, Written)]) -> Vec<u8> {
        let v3 = self.layout.version == 3;
        let big = self.layout.big;
        let mut out = Vec::new();
        let mut rest = entries;
        while let Some((_, first)) = rest.first() {
            let run = rest
                .iter()
                .take(256)
                .take_while(|(_, inode)| {
                    inode.block == first.block
                        && (i64::from(inode.number) - i64::from(first.number)).abs() < 32768
                })
                .count();
            let mut header = Fields::new(if v3 { 9 } else { 4 }, big);
            header.put(0, 8, run as u64 - 1);
            if v3 {
                header
                    .put(8, 32, first.block)
                    .put(40, 32, u64::from(first.number));
            } else {
                header.put(8, 24, first.block);
            }
            out.extend(header.bytes);
            for (name, inode) in &rest[..run] {
                let mut entry = Fields::new(if v3 { 5 } else { 3 }, big);
                entry
                    .put(0, 13, inode.offset as u64)
                    .put(13, 3, inode.kind)
                    .put(16, 8, name.len() as u64 - 1);
                if v3 {
                    let delta = i64::from(inode.number) - i64::from(first.number);
                    entry.put(24, 16, delta as u64 & 0xffff);
                }
                out.extend(entry.bytes);
                out.extend(name);
            }
            rest = &rest[run..];
        }
        out
    }

    /// Writes the tables after the data and the superblock before it.
    fn finish(mut self, root: Written) -> Vec<u8> {
        self.flush_fragment();
        let layout = self.layout;
        let v3 = layout.version == 3;
        let inode_table = self.out.len() as u64;
        let inodes = std::mem::replace(&mut self.inodes, Metadata::new()).finish(&layout);
        self.out.extend(inodes);
        let directory_table = self.out.len() as u64;
        let directories = std::mem::replace(&mut self.directories, Metadata::new()).finish(&layout);
        self.out.extend(directories);
        // The fragment table's blocks, then the index of where each starts.
        let entry = if v3 { 16 } else { 8 };
        let mut index = Vec::new();
        for chunk in self.fragments.chunks(METADATA / entry) {
            let mut bytes = Vec::new();
            for &(start, stored) in chunk {
                let mut fields = Fields::new(entry, layout.big);
                if v3 {
                    fields.put(0, 64, start).put(64, 32, u64::from(stored));
                } else {
                    fields.put(0, 32, start).put(32, 32, u64::from(stored));
                }
                bytes.extend(fields.bytes);
            }
            index.push(self.out.len() as u64);
            let mut metadata = Metadata::new();
            metadata.append(&layout, &bytes);
            self.out.extend(metadata.finish(&layout));
        }
        let fragment_table = self.out.len() as u64;
        for start in index {
            let mut fields = Fields::new(if v3 { 8 } else { 4 }, layout.big);
            fields.put(0, if v3 { 64 } else { 32 }, start);
            self.out.extend(fields.bytes);
        }
        let uid_start = self.out.len() as u64;
        let word = |value: u32| {
            let mut fields = Fields::new(4, layout.big);
            fields.put(0, 32, u64::from(value));
            fields.bytes
        };
        for &uid in &self.uids.clone() {
            self.out.extend(word(uid));
        }
        let guid_start = if self.gids.is_empty() {
            0
        } else {
            self.out.len() as u64
        };
        for &gid in &self.gids.clone() {
            self.out.extend(word(gid));
        }
        let bytes_used = self.out.len() as u64;
        let root = root.block << 16 | root.offset as u64;
        let block_log = self.block_size.trailing_zeros() as u64;
        let mut superblock = Fields::new(SUPERBLOCK, layout.big);
        superblock
            .put(32, 32, u64::from(self.count))
            .put(64, 32, bytes_used)
            .put(96, 32, uid_start)
            .put(128, 32, guid_start)
            .put(160, 32, inode_table)
            .put(192, 32, directory_table)
            .put(224, 16, u64::from(layout.version))
            .put(240, 16, if layout.version == 1 { 0 } else { 1 })
            .put(256, 16, (self.block_size as u64).min(0xffff))
            .put(272, 16, block_log)
            .put(288, 8, if layout.check { 1 << 2 } else { 0 })
            .put(296, 8, self.uids.len() as u64)
            .put(304, 8, self.gids.len() as u64)
            .put(312, 32, 1_230_768_000)
            .put(344, 64, root)
            .put(408, 32, self.block_size as u64)
            .put(440, 32, self.fragments.len() as u64)
            .put(472, 32, fragment_table)
            .put(504, 64, bytes_used)
            .put(568, 64, uid_start)
            .put(632, 64, guid_start)
            .put(696, 64, inode_table)
            .put(760, 64, directory_table)
            .put(824, 64, fragment_table)
            .put(888, 64, u64::MAX);
        superblock.bytes[..4].copy_from_slice(layout.magic);
        self.out[..SUPERBLOCK].copy_from_slice(&superblock.bytes);
        // Padded to 4 KiB as mksquashfs pads, the padding outside the filesystem.
        let padded = self.out.len().next_multiple_of(4096);
        self.out.resize(padded, 0);
        self.out
    }
}

/// Writes the tree at `source` as a squashfs of `layout`.
fn write(source: &Path, layout: Layout) -> Vec<u8> {
    let Tree::Directory(children, metadata) = read_tree(source) else {
        panic!("{} is not a directory", source.display());
    };
    let mut writer = Writer::new(layout);
    let root = writer.write_directory(&children, &metadata);
    writer.finish(root)
}

/// Debian's unsquashfs extracts the image, and the files are the tree's.
fn unsquashfs_reads(image: &Path, source: &Path) {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let run = Command::new("unsquashfs")
        .args(["-no-progress", "-d"])
        .arg(&out)
        .arg(image)
        .output()
        .expect("unsquashfs runs (squashfs-tools)");
    assert!(
        run.status.success(),
        "unsquashfs {}: {}{}",
        image.display(),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let mut compared = 0;
    let mut pending = vec![std::path::PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in fs::read_dir(source.join(&relative)).unwrap() {
            let entry = entry.unwrap();
            let path = relative.join(entry.file_name());
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                assert_eq!(
                    fs::read_link(out.join(&path)).unwrap(),
                    fs::read_link(entry.path()).unwrap()
                );
            } else if kind.is_dir() {
                pending.push(path);
            } else {
                assert_eq!(
                    fs::read(out.join(&path))
                        .unwrap_or_else(|error| panic!("{}: {error}", path.display())),
                    fs::read(entry.path()).unwrap(),
                    "unsquashfs {}: {}",
                    image.display(),
                    path.display()
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 50, "{compared}");
}

/// Writes, checks and unpacks one layout; returns the image's path (in `work`).
fn check(layout: Layout, work: &Path) -> std::path::PathBuf {
    let source = images().join("weak/rootfs");
    let name = format!(
        "weak.squashfs{}.{}.{:?}",
        layout.version,
        if layout.big { "be" } else { "le" },
        layout.compression
    );
    let image = work.join(name.replace([' ', '{', '}', ':', ','], ""));
    fs::write(&image, write(&source, layout)).unwrap();
    if matches!(layout.compression, Compression::Zlib) {
        unsquashfs_reads(&image, &source);
    }
    let manifest = unpacked_as_built(&image, &source);
    let container = &manifest["containers"][0];
    assert_eq!(container["format"], "squashfs", "{manifest:#}");
    image
}

fn layout(version: u16, big: bool, compression: Compression) -> Layout {
    Layout {
        version,
        big,
        compression,
        check: false,
        large: false,
        magic: if big { b"sqsh" } else { b"hsqs" },
    }
}

/// gzip squashfs of every version before 4.0 in both byte orders, one with check bytes
/// and large inodes: Debian's unsquashfs and provisor read each as built.
#[test]
fn gzip_squashfs_1_2_3_in_both_byte_orders() {
    let work = tempfile::tempdir().unwrap();
    for version in [1, 2, 3] {
        for big in [false, true] {
            check(layout(version, big, Compression::Zlib), work.path());
        }
    }
    let unusual = Layout {
        check: true,
        large: true,
        ..layout(3, true, Compression::Zlib)
    };
    check(unusual, work.path());
    let large_2 = Layout {
        large: true,
        ..layout(2, false, Compression::Zlib)
    };
    let image = check(large_2, work.path());
    finds_the_weak_device(&image);
}

/// The vendors' LZMA squashfs: a 2.0 big-endian filesystem with Broadcom's LZMA (the
/// ADSL modems' kind, which Debian's unsquashfs cannot decompress), 3.x with the sqlzma
/// header, a bare stream with uncommon properties under a vendor magic, and 1.x blocks
/// behind four vendor bytes.
#[test]
fn lzma_squashfs_of_vendors() {
    let work = tempfile::tempdir().unwrap();
    let broadcom = check(
        layout(2, true, Compression::LzmaProperties { skip: 0 }),
        work.path(),
    );
    finds_the_weak_device(&broadcom);
    check(layout(3, false, Compression::LzmaAlone), work.path());
    let bare = Layout {
        magic: b"qshs",
        ..layout(
            3,
            true,
            Compression::LzmaBare {
                lc: 1,
                lp: 2,
                pb: 2,
            },
        )
    };
    check(bare, work.path());
    let shsq = Layout {
        magic: b"shsq",
        ..layout(1, false, Compression::LzmaProperties { skip: 4 })
    };
    check(shsq, work.path());
}

/// A cut image, blocks no method decodes, and a lying file size: each an inconclusive
/// finding naming the version and the reason, never a panic.
#[test]
fn broken_legacy_squashfs_is_reported() {
    let work = tempfile::tempdir().unwrap();
    let source = images().join("weak/rootfs");
    let whole = write(&source, layout(3, false, Compression::Zlib));
    let reasons = |bytes: &[u8], name: &str| {
        let image = work.path().join(name);
        fs::write(&image, bytes).unwrap();
        let findings = crate::scan(&image);
        findings
            .findings
            .iter()
            .filter(|finding| finding.check == "firmware.unpack")
            .map(|finding| format!("{} {}", finding.title, finding.detail))
            .collect::<Vec<_>>()
    };
    let cut = reasons(&whole[..whole.len() / 2], "cut");
    assert!(
        cut.iter().any(|reason| reason.contains("squashfs 3.x (little-endian) is corrupt: it is cut off")),
        "{cut:#?}"
    );
    // The inode table's one block overwritten, as a vendor's own compression or
    // encryption would leave it.
    let tree = tiny_tree();
    let mut scrambled = write(tree.path(), layout(3, false, Compression::Zlib));
    let inode_table = u32::from_le_bytes(scrambled[20..24].try_into().unwrap()) as usize;
    let directory_table = u32::from_le_bytes(scrambled[24..28].try_into().unwrap()) as usize;
    for (index, byte) in scrambled[inode_table + 2..directory_table]
        .iter_mut()
        .enumerate()
    {
        *byte = (index as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3];
    }
    let unknown = reasons(&scrambled, "scrambled");
    assert!(
        unknown
            .iter()
            .any(|reason| reason.contains("compressed in a way provisor does not know")),
        "{unknown:#?}"
    );
}

/// Writes tiny images of each version, byte order and compression into
/// fuzz/seeds/squashfs-legacy (run with `--ignored` when the writer changes).
#[test]
#[ignore = "writes the fuzz seeds"]
fn write_fuzz_seeds() {
    let tree = tiny_tree();
    let root = tree.path();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/squashfs-legacy");
    fs::create_dir_all(&seeds).unwrap();
    for version in [1, 2, 3] {
        for big in [false, true] {
            let name = format!("tiny.{version}.{}.zlib", if big { "be" } else { "le" });
            fs::write(
                seeds.join(name),
                write(root, layout(version, big, Compression::Zlib)),
            )
            .unwrap();
        }
    }
    let lzma = [
        (
            "tiny.2.be.lzma-properties",
            layout(2, true, Compression::LzmaProperties { skip: 0 }),
        ),
        (
            "tiny.3.le.lzma-alone",
            layout(3, false, Compression::LzmaAlone),
        ),
        (
            "tiny.3.be.lzma-bare",
            layout(
                3,
                true,
                Compression::LzmaBare {
                    lc: 1,
                    lp: 2,
                    pb: 2,
                },
            ),
        ),
    ];
    for (name, layout) in lzma {
        fs::write(seeds.join(name), write(root, layout)).unwrap();
    }
}

/// A small tree: a few files (one over a block, so that it has blocks and a fragment),
/// a directory, a link and a set-uid script.
fn tiny_tree() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    fs::create_dir_all(root.join("etc/init.d")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/shadow"), "root:$1$abc$def:0:0:99999:7:::\n").unwrap();
    fs::write(
        root.join("etc/init.d/rcS"),
        "#!/bin/sh\ntelnetd -l /bin/sh\n",
    )
    .unwrap();
    let block: Vec<u8> = (0..70_000u32).map(|index| (index % 251) as u8).collect();
    fs::write(root.join("etc/blob"), block).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
    fs::set_permissions(
        root.join("etc/init.d/rcS"),
        fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    tree
}

/// Writes the weak tree as squashfs 3.x (gzip, little-endian) and 2.x (Broadcom LZMA,
/// big-endian) into target/bench-images for docs/PERFORMANCE.md (run with `--ignored`).
#[test]
#[ignore = "writes benchmark images"]
fn write_benchmark_images() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-images");
    fs::create_dir_all(&out).unwrap();
    let source = images().join("weak/rootfs");
    for (name, layout) in [
        ("weak.squashfs3.gzip", layout(3, false, Compression::Zlib)),
        (
            "weak.squashfs2.be.lzma",
            layout(2, true, Compression::LzmaProperties { skip: 0 }),
        ),
    ] {
        fs::write(out.join(name), write(&source, layout)).unwrap();
    }
}
