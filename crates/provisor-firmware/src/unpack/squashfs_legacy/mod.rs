//! SquashFS before 4.0: the 1.x, 2.x and 3.x filesystems of older devices, in either byte
//! order, read by provisor itself (backhand reads 4.0 only). The three versions share a
//! superblock, metadata blocks of at most 8 KiB behind a 2-byte length, data blocks
//! behind a list of sizes, and packed bit-field structures that a big-endian filesystem
//! lays out from the most significant bit; [`v1`], [`v2`] and [`v3`] hold each
//! version's inode and directory layouts.
//!
//! Besides the standard zlib, vendors patched LZMA into these versions in several ways,
//! and some changed the magic (`sqlz`, `qshs`, `shsq`, `tqsh`, `hsqt`): a block may carry
//! LZMA's 13-byte "alone" header, only its 5 property bytes, or nothing at all, sometimes
//! behind a few bytes of the vendor's own. The method is found once per filesystem on
//! the metadata block that holds the root inode (the first that decodes to a directory
//! inode where the superblock says the root is), then used for every block; zlib blocks
//! among LZMA ones (as the sqlzma patch writes) are recognized by their header.
//!
//! The filesystem is read into memory (these are the filesystems of small flash parts),
//! listed eagerly and its files decoded when read. Each directory is walked once, so a
//! looping image ends; every size and offset is checked against what is there.

mod v1;
mod v2;
mod v3;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use super::{Blob, Listed, Refused, codec, file_blocks, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

/// A metadata block's most bytes once decoded.
const METADATA: usize = 8192;
/// Decoded metadata blocks kept while listing (32 MiB).
const METADATA_CACHE: usize = 4096;
/// Magics written little-endian: the standard one, DD-WRT's and a vendor's.
const LITTLE_MAGICS: [&[u8; 4]; 3] = [b"hsqs", b"hsqt", b"shsq"];
/// Magics written big-endian: the standard one and vendors' LZMA and DD-WRT ones.
const BIG_MAGICS: [&[u8; 4]; 4] = [b"sqsh", b"sqlz", b"qshs", b"tqsh"];
/// The superblock's bytes (3.x's is the largest).
const SUPERBLOCK: usize = 119;

/// The byte order of a filesystem, which is also the order of its bit fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Little,
    Big,
}

impl Order {
    /// The `bits`-wide field at bit `at` of a packed structure: a little-endian structure
    /// fills each byte from its least significant bit, a big-endian one from its most
    /// significant (as squashfs-tools' swap macros read them). Bytes past the end read
    /// as zero.
    pub(super) fn field(self, data: &[u8], at: usize, bits: usize) -> u64 {
        let (first, shift) = (at / 8, at % 8);
        let span = (shift + bits).div_ceil(8);
        let byte = |index: usize| u128::from(data.get(first + index).copied().unwrap_or(0));
        let mask = (1u128 << bits) - 1;
        let value = match self {
            Order::Little => {
                (0..span).fold(0u128, |value, index| value | byte(index) << (8 * index)) >> shift
            }
            Order::Big => {
                (0..span).fold(0u128, |value, index| value << 8 | byte(index))
                    >> (span * 8 - shift - bits)
            }
        };
        (value & mask) as u64
    }

    fn u16_at(self, data: &[u8], at: usize) -> u64 {
        self.field(data, at * 8, 16)
    }

    fn u32_at(self, data: &[u8], at: usize) -> u64 {
        self.field(data, at * 8, 32)
    }

    fn u64_at(self, data: &[u8], at: usize) -> u64 {
        self.field(data, at * 8, 64)
    }
}

/// The three versions before 4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V1,
    V2,
    V3,
}

/// What an inode is, in the terms the walk needs.
pub(super) enum Class {
    /// A directory: its listing starts at `block` (from the directory table's start),
    /// `offset` bytes into it, and runs `size` bytes.
    Directory {
        block: u64,
        offset: usize,
        size: u64,
    },
    /// A regular file: data blocks from `start`, `size` bytes, the tail in a fragment
    /// (index, offset) when it has one; `blocks` entries of the block list follow.
    File {
        start: u64,
        size: u64,
        fragment: Option<(u32, u32)>,
    },
    /// A symbolic link whose target (`length` bytes) follows.
    Symlink { length: usize },
    /// A device, FIFO or socket.
    Special,
}

/// An inode's fixed part.
pub(super) struct Header {
    pub class: Class,
    /// Permission bits (set-id and sticky bits included).
    pub mode: u32,
    /// Indexes into the owner and group tables; the group may be the version's "same as
    /// the owner" value.
    pub uid: usize,
    pub gid: usize,
}

/// A version's directory listing: runs of entries behind a header giving their inodes'
/// metadata block; each entry an offset in that block (13 bits), a type and a name
/// length, then the name.
#[derive(Clone, Copy)]
pub(super) struct Listing {
    /// Bytes of a run's header, and the width of its block field (after an 8-bit count).
    pub header: usize,
    pub block_bits: usize,
    /// Bytes of an entry before its name.
    pub entry: usize,
    /// Bytes a directory's size counts beyond its listing.
    pub counted: u64,
}

/// A directory entry: its name and where its inode is (the metadata block from the inode
/// table's start, and the offset in it).
pub(super) struct Entry {
    pub name: Vec<u8>,
    pub block: u64,
    pub offset: usize,
}

impl Version {
    /// Bytes every inode starts with, enough to tell its type.
    fn base(self) -> usize {
        match self {
            Version::V1 => v1::BASE,
            Version::V2 => v2::BASE,
            Version::V3 => v3::BASE,
        }
    }

    /// The inode type in the first byte (the first four bits of the structure).
    fn inode_type(self, order: Order, data: &[u8]) -> u8 {
        order.field(data, 0, 4) as u8
    }

    /// The fixed size of an inode of a type, none for a type the version does not have.
    fn inode_size(self, kind: u8) -> Option<usize> {
        match self {
            Version::V1 => v1::inode_size(kind),
            Version::V2 => v2::inode_size(kind),
            Version::V3 => v3::inode_size(kind),
        }
    }

    fn parse_inode(self, order: Order, data: &[u8]) -> Header {
        match self {
            Version::V1 => v1::parse_inode(order, data),
            Version::V2 => v2::parse_inode(order, data),
            Version::V3 => v3::parse_inode(order, data),
        }
    }

    /// The major version number.
    fn number(self) -> u8 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }

    /// Whether an inode type is a directory's (the root's check).
    fn is_directory(self, kind: u8) -> bool {
        match self {
            Version::V1 => v1::real_type(kind) == 1,
            _ => kind == 1 || kind == 8,
        }
    }

    /// The group index that means "the owner's group".
    fn same_group(self) -> usize {
        match self {
            Version::V1 => 15,
            _ => 255,
        }
    }
}

/// Where a filesystem's parts lie, from its superblock.
#[derive(Debug, Clone)]
struct Superblock {
    version: Version,
    order: Order,
    block_size: u64,
    /// Metadata blocks carry a check byte after their length.
    check: bool,
    root: u64,
    inode_table: u64,
    directory_table: u64,
    fragments: u64,
    fragment_table: u64,
    uid_start: u64,
    guid_start: u64,
    uids: usize,
    guids: usize,
    bytes_used: u64,
}

/// Reads a superblock of version 1 to 3 in either order; none when the bytes are not
/// one (the magic, version, block size and table offsets are checked).
fn superblock(data: &[u8]) -> Option<Superblock> {
    let magic: &[u8; 4] = data.get(..4)?.try_into().ok()?;
    let order = if LITTLE_MAGICS.contains(&magic) {
        Order::Little
    } else if BIG_MAGICS.contains(&magic) {
        Order::Big
    } else {
        return None;
    };
    if data.len() < SUPERBLOCK {
        return None;
    }
    let version = match order.u16_at(data, 28) {
        1 => Version::V1,
        2 => Version::V2,
        3 => Version::V3,
        _ => return None,
    };
    let block_log = order.u16_at(data, 34);
    let block_size = match version {
        Version::V1 => order.u16_at(data, 32),
        _ => order.u32_at(data, 51),
    };
    // 1.x blocks are at most 32 KiB (their list holds 16-bit sizes), later ones 1 MiB.
    let largest = if version == Version::V1 { 15 } else { 20 };
    if !(12..=largest).contains(&block_log) || block_size != 1 << block_log {
        return None;
    }
    let flags = data[36];
    let wide = version == Version::V3;
    let pointer = |narrow: usize, wide_at: usize| {
        if wide {
            order.u64_at(data, wide_at)
        } else {
            order.u32_at(data, narrow)
        }
    };
    let superblock = Superblock {
        version,
        order,
        block_size,
        check: flags & 0x04 != 0,
        root: order.u64_at(data, 43),
        bytes_used: pointer(8, 63),
        uid_start: pointer(12, 71),
        guid_start: pointer(16, 79),
        inode_table: pointer(20, 87),
        directory_table: pointer(24, 95),
        fragment_table: match version {
            Version::V1 => 0,
            Version::V2 => order.u32_at(data, 59),
            Version::V3 => order.u64_at(data, 103),
        },
        fragments: match version {
            Version::V1 => 0,
            _ => order.u32_at(data, 55),
        },
        uids: usize::from(data[37]),
        guids: usize::from(data[38]),
    };
    let tables_in_order = SUPERBLOCK as u64 <= superblock.inode_table
        && superblock.inode_table < superblock.directory_table
        && superblock.directory_table < superblock.bytes_used
        && superblock.uid_start <= superblock.bytes_used;
    tables_in_order.then_some(superblock)
}

/// Whether the bytes at a squashfs magic are a 1.x to 3.x superblock.
pub(crate) fn plausible(data: &[u8]) -> bool {
    superblock(data).is_some()
}

/// How a filesystem's compressed blocks are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Zlib,
    /// LZMA with its 13-byte "alone" header (properties, dictionary, length), `skip`
    /// bytes into the block.
    LzmaAlone {
        skip: usize,
    },
    /// LZMA behind its 5 property bytes only.
    LzmaProperties {
        skip: usize,
    },
    /// Bare LZMA; the properties were found by trying each.
    LzmaBare {
        properties: u8,
        skip: usize,
    },
}

/// How much a block decodes to.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Exactly(usize),
    AtMost(usize),
}

impl Expect {
    fn limit(self) -> usize {
        match self {
            Expect::Exactly(size) | Expect::AtMost(size) => size,
        }
    }

    fn check(self, out: Vec<u8>) -> Result<Vec<u8>, String> {
        self.check_len(out.len())?;
        Ok(out)
    }

    fn check_len(self, decoded: usize) -> Result<(), String> {
        match self {
            Expect::Exactly(size) if decoded != size => Err(format!(
                "a block decodes to {decoded} bytes where {size} are expected"
            )),
            _ => Ok(()),
        }
    }
}

/// Whether a block starts with a zlib header (deflate, a window of at most 32 KiB and
/// the header's check).
fn looks_like_zlib(raw: &[u8]) -> bool {
    raw.len() >= 2
        && raw[0] & 0x0f == 8
        && raw[0] >> 4 <= 7
        && (u16::from(raw[0]) << 8 | u16::from(raw[1])) % 31 == 0
}

impl Method {
    fn decode(self, raw: &[u8], expect: Expect) -> Result<Vec<u8>, String> {
        let limit = expect.limit();
        let exact = matches!(expect, Expect::Exactly(_));
        let after = |skip: usize, header: usize| {
            raw.get(skip..)
                .filter(|rest| rest.len() > header)
                .ok_or_else(|| "an LZMA block is cut off".to_owned())
        };
        let out = match self {
            Method::Zlib => codec::zlib(raw, limit)?,
            Method::LzmaAlone { skip } => {
                let block = after(skip, 13)?;
                let length = u64::from_le_bytes(block[5..13].try_into().unwrap_or_default());
                match usize::try_from(length) {
                    // The stated length ends the stream, marker or not.
                    Ok(length) if length <= limit => {
                        codec::lzma_headerless(&block[13..], block[0], length, true)?
                    }
                    Ok(_) if length != u64::MAX => {
                        return Err(format!(
                            "an LZMA block states {length} bytes, more than {limit}"
                        ));
                    }
                    _ => codec::lzma_headerless(&block[13..], block[0], limit, exact)?,
                }
            }
            Method::LzmaProperties { skip } => {
                let block = after(skip, 5)?;
                codec::lzma_headerless(&block[5..], block[0], limit, exact)?
            }
            Method::LzmaBare { properties, skip } => {
                codec::lzma_headerless(after(skip, 0)?, properties, limit, exact)?
            }
        };
        expect.check(out)
    }

    /// The methods to try on a filesystem's first compressed block, most common first:
    /// zlib, then the LZMA headers at the block's start or behind 4 vendor bytes. An LZMA
    /// stream's first byte is always zero (the range coder's), which rules most out.
    fn with_headers(raw: &[u8]) -> impl Iterator<Item = Method> + '_ {
        let headers = [0, 4]
            .into_iter()
            .flat_map(|skip| [Method::LzmaAlone { skip }, Method::LzmaProperties { skip }]);
        std::iter::once(Method::Zlib)
            .chain(headers)
            .filter(|method| method.stream_start(raw) != Some(false))
    }

    /// Bare LZMA with every property byte liblzma decodes (the usual lc=3 lp=0 pb=2
    /// first) behind up to 10 vendor bytes: the costly search, after the headers failed.
    fn bare(raw: &[u8]) -> impl Iterator<Item = Method> + '_ {
        let usual = std::iter::once(0x5d);
        let others = (0u8..225)
            .filter(|&properties| properties != 0x5d && properties % 9 + properties / 9 % 5 <= 4);
        let properties: Vec<u8> = usual.chain(others).collect();
        (0..=10)
            .filter(|&skip| raw.get(skip) == Some(&0))
            .flat_map(move |skip| {
                properties
                    .clone()
                    .into_iter()
                    .map(move |properties| Method::LzmaBare { properties, skip })
            })
    }

    /// Whether the block holds an LZMA stream's zero first byte where this method
    /// expects one (none for zlib).
    fn stream_start(self, raw: &[u8]) -> Option<bool> {
        let at = match self {
            Method::Zlib => return None,
            Method::LzmaAlone { skip } => skip + 13,
            Method::LzmaProperties { skip } => skip + 5,
            Method::LzmaBare { skip, .. } => skip,
        };
        Some(raw.get(at) == Some(&0))
    }
}

/// A decoded metadata block and where the next one starts.
struct Metablock {
    data: Vec<u8>,
    next: u64,
}

/// A position in the metadata: a block (from the filesystem's start) and an offset in
/// its decoded bytes.
#[derive(Debug, Clone, Copy)]
struct Position {
    block: u64,
    offset: usize,
}

/// A mounted 1.x to 3.x filesystem.
struct Filesystem {
    /// The blob the filesystem lies in, read by position (a file's range is not loaded).
    image: Blob,
    /// Where the superblock is in `image`.
    base: u64,
    /// The bytes the filesystem spans.
    len: u64,
    superblock: Superblock,
    method: OnceLock<Method>,
    fragments: Vec<(u64, u64)>,
    files: Vec<FileData>,
    /// Fragment blocks decoded lately, by index.
    fragment_cache: Mutex<HashMap<u32, Arc<Vec<u8>>>>,
}

/// Where a regular file's data is.
struct FileData {
    start: u64,
    size: u64,
    /// Each block's stored size; bit 24 (bit 15 in 1.x, widened here) marks it stored
    /// uncompressed, and 0 is a hole.
    blocks: Vec<u32>,
    fragment: Option<(u32, u32)>,
}

/// Bit 24 of a block's size: stored uncompressed.
const UNCOMPRESSED_BLOCK: u32 = 1 << 24;

impl Filesystem {
    /// `length` bytes at `start` of the filesystem: borrowed from memory, or read from
    /// the image file.
    fn bytes(&self, start: u64, length: u64) -> Result<Cow<'_, [u8]>, String> {
        let past = || {
            format!(
                "{length} bytes at {start:#x} lie past the filesystem's end ({:#x})",
                self.len
            )
        };
        let end = start.checked_add(length).filter(|&end| end <= self.len);
        let (Some(_), Ok(size)) = (end, usize::try_from(length)) else {
            return Err(past());
        };
        self.image
            .bytes_at(self.base + start, size)
            .map_err(|error| format!("{length} bytes at {start:#x}: {error}"))
    }

    /// Decodes one compressed block: zlib when it has zlib's header (an sqlzma image
    /// mixes the two), otherwise the filesystem's method, or failing that a header the
    /// block carries itself (DD-WRT's images state properties per block).
    fn decode(&self, raw: &[u8], expect: Expect) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.decode_into(raw, expect, &mut out)?;
        Ok(out)
    }

    /// As [`Filesystem::decode`], appending to `out`: zlib blocks are inflated in place.
    fn decode_into(&self, raw: &[u8], expect: Expect, out: &mut Vec<u8>) -> Result<(), String> {
        let start = out.len();
        if looks_like_zlib(raw) {
            let inflated = codec::zlib_into(raw, expect.limit(), out)
                .and_then(|()| expect.check_len(out.len() - start));
            if inflated.is_ok() {
                return Ok(());
            }
            out.truncate(start);
        }
        out.extend(self.decode_other(raw, expect)?);
        Ok(())
    }

    /// A block that is not zlib, or whose zlib header was chance.
    fn decode_other(&self, raw: &[u8], expect: Expect) -> Result<Vec<u8>, String> {
        let method = self.method.get().copied().unwrap_or(Method::Zlib);
        match method.decode(raw, expect) {
            Ok(out) => Ok(out),
            Err(error) => [
                Method::LzmaAlone { skip: 0 },
                Method::LzmaProperties { skip: 0 },
            ]
            .into_iter()
            .filter(|&fallback| fallback != method && method != Method::Zlib)
            .find_map(|fallback| fallback.decode(raw, expect).ok())
            .ok_or(error),
        }
    }

    /// Reads the metadata block at `start`, decoded with `method`, or the filesystem's.
    fn metablock(&self, start: u64, method: Option<Method>) -> Result<Metablock, String> {
        let order = self.superblock.order;
        let header = self.bytes(start, 2)?;
        let header: &[u8] = &header;
        let word = order.u16_at(header, 0) as u32;
        let skip = if self.superblock.check { 3 } else { 2 };
        let length = u64::from(word & 0x7fff);
        if length == 0 {
            return Err(format!("the metadata block at {start:#x} is empty"));
        }
        let raw = self.bytes(start + skip, length)?;
        let raw: &[u8] = &raw;
        let data = if word & 0x8000 != 0 {
            raw.to_vec()
        } else {
            match method {
                Some(method) => method.decode(raw, Expect::AtMost(METADATA)),
                None => self.decode(raw, Expect::AtMost(METADATA)),
            }
            .map_err(|error| format!("the metadata block at {start:#x}: {error}"))?
        };
        Ok(Metablock {
            data,
            next: start + skip + length,
        })
    }

    /// Finds how the filesystem compresses, on the block that holds the root inode: the
    /// first method under which it decodes to a directory inode at the root's offset.
    /// Trying every bare LZMA property set is allowed only while the sandbox's allowance
    /// of costly searches lasts.
    fn detect_method(&self, sandbox: &mut Sandbox) -> Result<(), String> {
        let superblock = &self.superblock;
        let root_block = superblock.inode_table + (superblock.root >> 16);
        let root_offset = (superblock.root & 0xffff) as usize;
        let order = superblock.order;
        let header = self.bytes(root_block, 2)?;
        let header: &[u8] = &header;
        if order.u16_at(header, 0) & 0x8000 != 0 {
            return Ok(());
        }
        let skip = if superblock.check { 3 } else { 2 };
        let length = order.u16_at(header, 0) & 0x7fff;
        let raw = self.bytes(root_block + skip, length)?;
        let raw: &[u8] = &raw;
        let root_is_directory = |block: &Metablock| {
            block.data.len() > root_offset
                && superblock
                    .version
                    .is_directory(superblock.version.inode_type(order, &block.data[root_offset..]))
                // Every block of the inode table but its last decodes to 8 KiB.
                && (block.data.len() == METADATA || block.next == superblock.directory_table)
        };
        let mut found = Method::with_headers(raw).find(|&method| {
            self.metablock(root_block, Some(method))
                .is_ok_and(|block| root_is_directory(&block))
        });
        if found.is_none() && sandbox.allow_search() {
            found = Method::bare(raw).find(|&method| {
                self.metablock(root_block, Some(method))
                    .is_ok_and(|block| root_is_directory(&block))
            });
        }
        let method = found.ok_or("its blocks are compressed in a way provisor does not know (not zlib, nor LZMA with or without a header)")?;
        let _ = self.method.set(method);
        Ok(())
    }

    /// Reads `length` bytes of metadata at `at`, moving `at` past them.
    fn read(
        &self,
        cache: &mut HashMap<u64, Arc<Metablock>>,
        at: &mut Position,
        length: usize,
    ) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(length.min(METADATA));
        while out.len() < length {
            let block = match cache.get(&at.block) {
                Some(block) => block.clone(),
                None => {
                    let block = Arc::new(self.metablock(at.block, None)?);
                    // Bounded: metadata blocks of a few bytes each can decode to 8 KiB.
                    if cache.len() >= METADATA_CACHE {
                        cache.clear();
                    }
                    cache.insert(at.block, block.clone());
                    block
                }
            };
            if at.offset >= block.data.len() {
                if at.offset > block.data.len() || block.data.is_empty() {
                    return Err(format!(
                        "metadata offset {} lies past its block at {:#x}",
                        at.offset, at.block
                    ));
                }
                *at = Position {
                    block: block.next,
                    offset: 0,
                };
                continue;
            }
            let take = (length - out.len()).min(block.data.len() - at.offset);
            out.extend_from_slice(&block.data[at.offset..at.offset + take]);
            at.offset += take;
        }
        Ok(out)
    }

    /// Decodes one data block of a file (its `expected` bytes) onto the end of `out`.
    fn block(
        &self,
        start: u64,
        stored: u32,
        expected: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let length = stored & !UNCOMPRESSED_BLOCK;
        if length == 0 {
            out.resize(out.len() + expected, 0);
            return Ok(());
        }
        let raw = self.bytes(start, u64::from(length))?;
        let raw: &[u8] = &raw;
        if stored & UNCOMPRESSED_BLOCK != 0 {
            out.extend_from_slice(&raw[..raw.len().min(expected)]);
            return Ok(());
        }
        self.decode_into(raw, Expect::Exactly(expected), out)
    }

    fn fragment(&self, index: u32) -> Result<Arc<Vec<u8>>, String> {
        if let Some(block) = self.cached_fragment(index) {
            return Ok(block);
        }
        let &(start, stored) = self
            .fragments
            .get(index as usize)
            .ok_or_else(|| format!("fragment {index} is not in the fragment table"))?;
        let length = stored as u32 & !UNCOMPRESSED_BLOCK;
        let raw = self.bytes(start, u64::from(length))?;
        let raw: &[u8] = &raw;
        let block = Arc::new(if stored as u32 & UNCOMPRESSED_BLOCK != 0 {
            raw.to_vec()
        } else {
            self.decode(raw, Expect::AtMost(self.superblock.block_size as usize))?
        });
        let mut cache = self
            .fragment_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= 16 {
            cache.clear();
        }
        cache.insert(index, block.clone());
        Ok(block)
    }

    fn cached_fragment(&self, index: u32) -> Option<Arc<Vec<u8>>> {
        self.fragment_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&index)
            .cloned()
    }
}

impl FileSource for Filesystem {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.read_into(id, limit, &mut out)?;
        Ok(out)
    }

    fn read_into(&self, id: usize, limit: u64, out: &mut Vec<u8>) -> Result<(), String> {
        let file = self.files.get(id).ok_or("no such file")?;
        let wanted = file.size.min(limit.saturating_add(1));
        let block_size = self.superblock.block_size;
        out.clear();
        out.reserve(usize::try_from(wanted).unwrap_or(0).min(64 << 20));
        // Where each block needed lies, and what it holds.
        let mut blocks = Vec::with_capacity(file.blocks.len());
        let (mut start, mut covered) = (file.start, 0u64);
        for &stored in &file.blocks {
            if covered >= wanted {
                break;
            }
            let expected = (file.size - covered).min(block_size);
            blocks.push((start, stored, expected as usize));
            start += u64::from(stored & !UNCOMPRESSED_BLOCK);
            covered += expected;
        }
        file_blocks::decode(
            &blocks,
            |&(_, _, expected)| expected,
            |&(start, stored, expected), out| self.block(start, stored, expected, out),
            out,
        )?;
        if let Some((index, offset)) = file.fragment
            && (out.len() as u64) < wanted
        {
            let tail = (file.size - out.len() as u64) as usize;
            let block = self.fragment(index)?;
            let offset = offset as usize;
            let part = offset
                .checked_add(tail)
                .and_then(|end| block.get(offset..end))
                .ok_or_else(|| format!("the file's tail lies past fragment {index}'s end"))?;
            out.extend_from_slice(part);
        }
        if (out.len() as u64) < wanted {
            return Err(format!(
                "the file's blocks hold {} of its {} bytes",
                out.len(),
                file.size
            ));
        }
        out.truncate(wanted as usize);
        Ok(())
    }
}

/// Reads the fragment table: where each fragment block is and its stored size.
fn fragment_table(filesystem: &Filesystem) -> Result<Vec<(u64, u64)>, String> {
    let superblock = &filesystem.superblock;
    let (entry, pointer) = match superblock.version {
        Version::V1 => return Ok(Vec::new()),
        Version::V2 => (8usize, 4usize),
        Version::V3 => (16, 8),
    };
    let count = usize::try_from(superblock.fragments).unwrap_or(usize::MAX);
    if count == 0 {
        return Ok(Vec::new());
    }
    // Each fragment takes an entry of the table: a count the table cannot hold lies.
    if count.saturating_mul(entry) as u64 > filesystem.len {
        return Err(format!(
            "it claims {count} fragments, more than it can hold"
        ));
    }
    let blocks = (count * entry).div_ceil(METADATA);
    let index = filesystem.bytes(superblock.fragment_table, (blocks * pointer) as u64)?;
    let index: &[u8] = &index;
    let mut cache = HashMap::new();
    let mut table = Vec::with_capacity(count);
    for block in 0..blocks {
        let start = if pointer == 8 {
            superblock.order.u64_at(index, block * 8)
        } else {
            superblock.order.u32_at(index, block * 4)
        };
        let wanted = (count - table.len()).min(METADATA / entry) * entry;
        let bytes = filesystem.read(
            &mut cache,
            &mut Position {
                block: start,
                offset: 0,
            },
            wanted,
        )?;
        for raw in bytes.chunks_exact(entry) {
            let order = superblock.order;
            table.push(if entry == 16 {
                (order.u64_at(raw, 0), order.u32_at(raw, 8))
            } else {
                (order.u32_at(raw, 0), order.u32_at(raw, 4))
            });
        }
    }
    Ok(table)
}

/// Reads the owner and group tables (plain 32-bit words, not metadata).
fn id_tables(filesystem: &Filesystem) -> (Vec<u32>, Vec<u32>) {
    let superblock = &filesystem.superblock;
    let table = |start: u64, count: usize| {
        filesystem
            .bytes(start, count as u64 * 4)
            .map(|bytes| {
                (0..count)
                    .map(|index| superblock.order.u32_at(&bytes, index * 4) as u32)
                    .collect()
            })
            .unwrap_or_default()
    };
    (
        table(superblock.uid_start, superblock.uids),
        table(superblock.guid_start, superblock.guids),
    )
}

/// An inode read whole: its fixed part, and a file's block list or a link's target.
struct Inode {
    header: Header,
    blocks: Vec<u32>,
    target: Vec<u8>,
}

/// Reads the inode at `at`: its fixed part, then its block list or link target.
fn read_inode(
    filesystem: &Filesystem,
    cache: &mut HashMap<u64, Arc<Metablock>>,
    mut at: Position,
) -> Result<Inode, String> {
    let superblock = &filesystem.superblock;
    let (version, order) = (superblock.version, superblock.order);
    let mut fixed = filesystem.read(cache, &mut at, version.base())?;
    let kind = version.inode_type(order, &fixed);
    let size = version
        .inode_size(kind)
        .ok_or_else(|| format!("an inode has the unknown type {kind}"))?;
    fixed.extend(filesystem.read(cache, &mut at, size - fixed.len())?);
    let header = version.parse_inode(order, &fixed);
    match header.class {
        Class::File { size, fragment, .. } => {
            let whole = if fragment.is_some() {
                size / superblock.block_size
            } else {
                size.div_ceil(superblock.block_size)
            };
            let width = if version == Version::V1 { 2 } else { 4 };
            // The list lies in the inode table, inside the filesystem.
            if whole.saturating_mul(width) > filesystem.len {
                return Err(format!(
                    "a file claims {size} bytes, more than the filesystem holds"
                ));
            }
            let list = filesystem.read(cache, &mut at, (whole * width) as usize)?;
            let blocks = list
                .chunks_exact(width as usize)
                .map(|entry| {
                    if width == 2 {
                        // 1.x: 16-bit sizes with bit 15 for "uncompressed", and a 32 KiB
                        // block stored as is written as the bit alone.
                        let stored = order.u16_at(entry, 0) as u32;
                        let length = match stored & 0x7fff {
                            0 => 0x8000,
                            length => length,
                        };
                        if stored & 0x8000 != 0 {
                            length | UNCOMPRESSED_BLOCK
                        } else {
                            length
                        }
                    } else {
                        order.u32_at(entry, 0) as u32
                    }
                })
                .collect();
            Ok(Inode {
                header,
                blocks,
                target: Vec::new(),
            })
        }
        Class::Symlink { length } => {
            let target = filesystem.read(cache, &mut at, length)?;
            Ok(Inode {
                header,
                blocks: Vec::new(),
                target,
            })
        }
        _ => Ok(Inode {
            header,
            blocks: Vec::new(),
            target: Vec::new(),
        }),
    }
}

/// Reads a directory's entries (its listing from `block` and `offset` of the directory
/// table, `size` bytes as its inode counts them).
fn read_directory(
    filesystem: &Filesystem,
    cache: &mut HashMap<u64, Arc<Metablock>>,
    block: u64,
    offset: usize,
    size: u64,
) -> Result<Vec<Entry>, String> {
    let superblock = &filesystem.superblock;
    let mut at = Position {
        block: superblock.directory_table + block,
        offset,
    };
    let listing = match superblock.version {
        Version::V1 | Version::V2 => v2::LISTING,
        Version::V3 => v3::LISTING,
    };
    let order = superblock.order;
    let mut read = |length: usize| filesystem.read(cache, &mut at, length);
    let mut left = size.saturating_sub(listing.counted);
    let mut entries = Vec::new();
    while left >= listing.header as u64 {
        let header = read(listing.header)?;
        left -= listing.header as u64;
        let count = order.field(&header, 0, 8) + 1;
        let block = order.field(&header, 8, listing.block_bits);
        for _ in 0..count {
            if left < listing.entry as u64 {
                return Err("a directory entry runs past the listing's end".into());
            }
            let entry = read(listing.entry)?;
            let length = order.field(&entry, 16, 8) as usize + 1;
            left = left
                .checked_sub((listing.entry + length) as u64)
                .ok_or("a name runs past the listing's end")?;
            entries.push(Entry {
                name: read(length)?,
                block,
                offset: order.field(&entry, 0, 13) as usize,
            });
        }
    }
    Ok(entries)
}

/// Mounts the 1.x to 3.x filesystem at `offset` of `image`; returns the bytes it spans.
pub(crate) fn mount(
    image: &Blob,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let available = image.len().saturating_sub(offset as u64);
    let mut head = vec![0; SUPERBLOCK.min(available as usize)];
    image
        .read_exact_at(offset as u64, &mut head)
        .map_err(|error| Refused::Broken(format!("the superblock cannot be read: {error}")))?;
    let superblock = superblock(&head).ok_or(Refused::NotThisFormat)?;
    let corrupt = |what: String| {
        Refused::Broken(format!(
            "squashfs {}.x ({}-endian) is corrupt: {what}",
            superblock.version.number(),
            if superblock.order == Order::Little {
                "little"
            } else {
                "big"
            }
        ))
    };
    // The tables lie at the end: a cut filesystem cannot be listed.
    if superblock.bytes_used > available {
        return Err(corrupt(format!(
            "it is cut off: its superblock says {} bytes, the image holds {available} from its start",
            superblock.bytes_used
        )));
    }
    let mut filesystem = Filesystem {
        image: image.clone(),
        base: offset as u64,
        len: superblock.bytes_used,
        superblock: superblock.clone(),
        method: OnceLock::new(),
        fragments: Vec::new(),
        files: Vec::new(),
        fragment_cache: Mutex::new(HashMap::new()),
    };
    filesystem.detect_method(sandbox).map_err(corrupt)?;
    filesystem.fragments = fragment_table(&filesystem).map_err(corrupt)?;
    let (uids, gids) = id_tables(&filesystem);
    let owner = |header: &Header| {
        let uid = uids.get(header.uid).copied().unwrap_or(0);
        let gid = if header.gid == superblock.version.same_group() {
            uid
        } else {
            gids.get(header.gid).copied().unwrap_or(0)
        };
        (uid, gid)
    };

    let mut cache = HashMap::new();
    let root_at = Position {
        block: superblock.inode_table + (superblock.root >> 16),
        offset: (superblock.root & 0xffff) as usize,
    };
    let root = read_inode(&filesystem, &mut cache, root_at)
        .map_err(corrupt)?
        .header;
    let mut listed: Vec<Listed> = Vec::new();
    let mut visited = HashSet::new();
    let mut pending = vec![(String::new(), root)];
    while let Some((directory, header)) = pending.pop() {
        let Class::Directory {
            block,
            offset,
            size,
        } = header.class
        else {
            return Err(corrupt("the root inode is not a directory".into()));
        };
        if !visited.insert((block, offset)) {
            continue;
        }
        let entries = read_directory(&filesystem, &mut cache, block, offset, size)
            .map_err(|error| corrupt(format!("the directory {}/: {error}", directory)))?;
        for entry in entries {
            // Compressed listings can name far more entries than the image has bytes.
            let most = sandbox.limits().max_files;
            if listed.len() >= most {
                return Err(Refused::Broken(format!(
                    "unpacking stopped: more than {most} files"
                )));
            }
            let path = format!("{directory}/{}", String::from_utf8_lossy(&entry.name));
            let at = Position {
                block: superblock.inode_table + entry.block,
                offset: entry.offset,
            };
            let Inode {
                header,
                blocks,
                target,
            } = read_inode(&filesystem, &mut cache, at)
                .map_err(|error| corrupt(format!("{path}: {error}")))?;
            let ids = owner(&header);
            let mode = header.mode;
            match header.class {
                Class::Directory { .. } => {
                    listed.push((
                        path.clone(),
                        NodeKind::Directory,
                        mode | 0o040000,
                        ids,
                        0,
                        None,
                    ));
                    pending.push((path, header));
                }
                Class::File {
                    start,
                    size,
                    fragment,
                } => {
                    filesystem.files.push(FileData {
                        start,
                        size,
                        blocks,
                        fragment,
                    });
                    let id = filesystem.files.len() - 1;
                    listed.push((path, NodeKind::File, mode | 0o100000, ids, size, Some(id)));
                }
                Class::Symlink { .. } => {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    listed.push((
                        path,
                        NodeKind::Symlink(target),
                        mode | 0o120000,
                        ids,
                        0,
                        None,
                    ));
                }
                Class::Special => listed.push((path, NodeKind::Special, mode, ids, 0, None)),
            }
        }
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(filesystem), listed)?;
    Ok(usize::try_from(superblock.bytes_used).ok())
}
