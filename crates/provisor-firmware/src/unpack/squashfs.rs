//! SquashFS 4.0 (both byte orders; gzip, xz, lzma, lzo, zstd and lz4). backhand reads
//! the superblock, the tables and the listing, eagerly; a file's data is read lazily by
//! provisor, by position from the image (a large file's blocks decoded on every core).
//! gzip blocks go through provisor's zlib decoder, kept per thread; xz, zstd and lz4
//! through backhand's; lzo and lzma through provisor's own bounded decoders.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufReader, Cursor};
use std::sync::{Arc, Mutex};

use backhand::compression::{CompressionAction, Compressor, DefaultCompressor};
use backhand::kind::{BE_V4_0, Kind, LE_V4_0};
use backhand::{
    BackhandError, DataSize, FilesystemCompressor, FilesystemReader, Fragment, InnerNode,
    SquashfsFileReader, SuperBlock,
};

use super::blob::FileReader;
use super::{Blob, codec, file_blocks, mount};
use crate::sandbox::Sandbox;
use crate::vfs::{Content, NodeKind, Vfs};

/// An image in memory shared by every lazily read file.
#[derive(Clone)]
struct Shared(Arc<[u8]>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// backhand's decoders, with lzo and lzma added.
struct Decoders;

static DECODERS: Decoders = Decoders;

impl CompressionAction for Decoders {
    type Error = BackhandError;
    type Compressor = Compressor;
    type FilesystemCompressor = FilesystemCompressor;
    type SuperBlock = SuperBlock;

    fn decompress(
        &self,
        bytes: &[u8],
        out: &mut Vec<u8>,
        compressor: Compressor,
    ) -> Result<(), BackhandError> {
        // A block never expands beyond squashfs' largest block size (1 MiB).
        let limit = backhand::MAX_BLOCK_SIZE as usize;
        let decoded = match compressor {
            Compressor::Lzo => codec::lzo1x(bytes, limit),
            Compressor::Lzma => codec::lzma_alone(bytes, limit),
            other => return DefaultCompressor.decompress(bytes, out, other),
        };
        out.extend_from_slice(&decoded.map_err(|_| BackhandError::CorruptedOrInvalidSquashfs)?);
        Ok(())
    }

    fn compress(
        &self,
        bytes: &[u8],
        compressor: FilesystemCompressor,
        block_size: u32,
    ) -> Result<Vec<u8>, BackhandError> {
        DefaultCompressor.compress(bytes, compressor, block_size)
    }
}

/// A cheap check of a superblock before handing it to the decoder: version 4.0, a
/// block size that is a power of two between 4 KiB and 1 MiB, and a known compressor.
pub(crate) fn plausible(data: &[u8]) -> bool {
    if data.len() < 96 {
        return false;
    }
    let little = &data[..4] == b"hsqs";
    let u16_at = |at: usize| {
        let bytes = [data[at], data[at + 1]];
        if little {
            u16::from_le_bytes(bytes)
        } else {
            u16::from_be_bytes(bytes)
        }
    };
    let u32_at = |at: usize| {
        let bytes = [data[at], data[at + 1], data[at + 2], data[at + 3]];
        if little {
            u32::from_le_bytes(bytes)
        } else {
            u32::from_be_bytes(bytes)
        }
    };
    let block_size = u32_at(12);
    let compressor = u16_at(20);
    let (major, minor) = (u16_at(28), u16_at(30));
    major == 4
        && minor == 0
        && block_size.is_power_of_two()
        && (4096..=1 << 20).contains(&block_size)
        && (1..=6).contains(&compressor)
}

/// Whether the squashfs at `offset` is version 4 (backhand's); older ones are read by
/// `squashfs_legacy`.
pub(crate) fn is_version_4(image: &Blob, offset: usize) -> bool {
    let mut header = [0u8; 96];
    image.read_exact_at(offset as u64, &mut header).is_ok() && plausible(&header)
}

/// Opens backhand's reader on the filesystem at `offset`. backhand can panic on hostile
/// superblocks (arithmetic overflow); a panic in the decoder is a malformed image, not a
/// crash of provisor.
fn open(
    image: &Blob,
    offset: usize,
    big_endian: bool,
) -> Result<FilesystemReader<'static>, String> {
    let opened = crate::contain::contained(|| {
        let kind = Kind::new_v4_with_const(&DECODERS, if big_endian { BE_V4_0 } else { LE_V4_0 });
        match image {
            Blob::Memory(bytes) => FilesystemReader::from_reader_with_offset_and_kind(
                Cursor::new(Shared(bytes.clone())),
                offset as u64,
                kind,
            ),
            // Metadata and data blocks are read through a buffer from the file.
            Blob::File { image, start, .. } => FilesystemReader::from_reader_with_offset_and_kind(
                BufReader::with_capacity(64 << 10, FileReader::new(image.clone())),
                start + offset as u64,
                kind,
            ),
        }
        .map_err(|error| error.to_string())
    });
    match opened {
        Ok(result) => result,
        Err(_) => Err("the decoder failed on malformed metadata".into()),
    }
}

/// A mounted squashfs whose files are read lazily. backhand lists the filesystem; a
/// file's data blocks and fragment are read here, by position from the image, and
/// decoded with the filesystem's compressor (zlib blocks with a decoder kept per
/// thread; a large file's blocks on every core).
pub(crate) struct Squashfs {
    image: Blob,
    /// Where the filesystem starts in `image`, and its length (`bytes_used`, within the
    /// image).
    offset: u64,
    len: u64,
    block_size: u32,
    compressor: Compressor,
    fragments: Vec<Fragment>,
    /// Recently decoded fragment blocks: neighbours in the listing share them.
    fragment_cache: Mutex<HashMap<usize, Arc<Vec<u8>>>>,
}

/// The fragment blocks kept decoded.
const FRAGMENT_CACHE: usize = 16;

impl Squashfs {
    /// Reads a file, at most `limit + 1` bytes of it, onto the end of `bytes`.
    pub(crate) fn read(
        &self,
        file: &SquashfsFileReader,
        limit: u64,
        bytes: &mut Vec<u8>,
    ) -> Result<(), String> {
        let base = bytes.len();
        let read = self.read_file(file, limit, bytes);
        if read.is_err() {
            bytes.truncate(base);
        }
        read
    }

    fn read_file(
        &self,
        file: &SquashfsFileReader,
        limit: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let size = file.file_len() as u64;
        let wanted = size.min(limit.saturating_add(1));
        let base = out.len();
        out.reserve(usize::try_from(wanted).unwrap_or(0).min(64 << 20));
        let block_size = u64::from(self.block_size);
        // Where each block needed lies, and what it holds.
        let mut blocks = Vec::with_capacity(file.block_sizes().len());
        let (mut start, mut covered) = (file.blocks_start(), 0u64);
        for &stored in file.block_sizes() {
            if covered >= wanted {
                break;
            }
            let expected = (size - covered).min(block_size);
            blocks.push((start, stored, expected as usize));
            start = start.saturating_add(u64::from(stored.size()));
            covered += expected;
        }
        file_blocks::decode(
            &blocks,
            |&(_, _, expected)| expected,
            |&(start, stored, expected), out| self.block(start, stored, expected, out),
            out,
        )?;
        let got = |out: &Vec<u8>| (out.len() - base) as u64;
        if file.frag_index() != NO_FRAGMENT && got(out) < wanted {
            let index = file.frag_index();
            let tail = (size - got(out)) as usize;
            let block = self.fragment(index)?;
            let offset = file.block_offset() as usize;
            let part = offset
                .checked_add(tail)
                .and_then(|end| block.get(offset..end))
                .ok_or_else(|| format!("the file's tail lies past fragment {index}'s end"))?;
            out.extend_from_slice(part);
        }
        if got(out) < wanted {
            return Err(format!(
                "the file's blocks hold {} of its {size} bytes",
                got(out)
            ));
        }
        out.truncate(base + wanted as usize);
        Ok(())
    }

    /// `length` bytes at `start` of the filesystem.
    fn bytes(&self, start: u64, length: u32) -> Result<Cow<'_, [u8]>, String> {
        if start
            .checked_add(u64::from(length))
            .is_none_or(|end| end > self.len)
        {
            return Err(format!(
                "{length} bytes at {start:#x} lie past the filesystem's end ({:#x})",
                self.len
            ));
        }
        self.image
            .bytes_at(self.offset + start, length as usize)
            .map_err(|error| format!("{length} bytes at {start:#x}: {error}"))
    }

    /// Decodes one data block of a file (its `expected` bytes) onto the end of `out`.
    fn block(
        &self,
        start: u64,
        stored: DataSize,
        expected: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        if stored.size() == 0 {
            // A hole: zeros, nothing stored.
            out.resize(out.len() + expected, 0);
            return Ok(());
        }
        let raw = self.bytes(start, stored.size())?;
        if stored.uncompressed() {
            out.extend_from_slice(&raw[..raw.len().min(expected)]);
            return Ok(());
        }
        let before = out.len();
        self.decode(&raw, out)?;
        let decoded = out.len() - before;
        if decoded != expected {
            return Err(format!(
                "the data block at {start:#x} decodes to {decoded} bytes, not {expected}"
            ));
        }
        Ok(())
    }

    /// Decodes a compressed block onto the end of `out`, at most one block's size.
    fn decode(&self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let limit = self.block_size as usize;
        if self.compressor == Compressor::Gzip {
            let before = out.len();
            codec::zlib_into(raw, limit, out).map_err(|error| error.to_string())?;
            if out.len() - before > limit {
                return Err(format!("a block decodes to more than {limit} bytes"));
            }
            return Ok(());
        }
        // backhand's decoders write from the start of the buffer they are given.
        let mut block = Vec::with_capacity(limit);
        // A panic in a decoder on hostile data is a corrupt block, not a crash. (Only the
        // decoder runs contained: this thread may run other work while it waits for a
        // file's blocks, whose panics must not pass for contained ones.)
        crate::contain::contained(|| DECODERS.decompress(raw, &mut block, self.compressor))
            .map_err(|()| "the decoder failed on malformed data".to_owned())?
            .map_err(|error| format!("a data block does not decode: {error}"))?;
        if block.len() > limit {
            return Err(format!("a block decodes to more than {limit} bytes"));
        }
        out.extend_from_slice(&block);
        Ok(())
    }

    fn fragment(&self, index: usize) -> Result<Arc<Vec<u8>>, String> {
        let cache = || {
            self.fragment_cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(block) = cache().get(&index) {
            return Ok(block.clone());
        }
        let fragment = self
            .fragments
            .get(index)
            .ok_or_else(|| format!("fragment {index} is not in the fragment table"))?;
        let raw = self.bytes(fragment.start, fragment.size.size())?;
        let block = Arc::new(if fragment.size.uncompressed() {
            raw.to_vec()
        } else {
            let mut block = Vec::new();
            self.decode(&raw, &mut block)?;
            block
        });
        let mut cache = cache();
        if cache.len() >= FRAGMENT_CACHE {
            cache.clear();
        }
        cache.insert(index, block.clone());
        Ok(block)
    }
}

/// A file's fragment index when its tail has no fragment.
const NO_FRAGMENT: usize = u32::MAX as usize;

/// Mounts the filesystem at `offset` of `image`, whose files are read lazily.
pub(crate) fn unpack(
    image: &Blob,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, String> {
    let mut header = [0u8; 48];
    image
        .read_exact_at(offset as u64, &mut header)
        .map_err(|error| format!("the superblock cannot be read: {error}"))?;
    let big_endian = &header[..4] == b"sqsh";
    // bytes_used (offset 40) is the filesystem's length; what follows may be another
    // container.
    let bytes_used = {
        let field: [u8; 8] = header[40..48].try_into().unwrap_or_default();
        if big_endian {
            u64::from_be_bytes(field)
        } else {
            u64::from_le_bytes(field)
        }
    };
    let filesystem = match open(image, offset, big_endian) {
        Ok(filesystem) => filesystem,
        Err(error) => return Err(format!("not a readable squashfs: {error}")),
    };
    let compressor = filesystem
        .compressor
        .ok_or("the superblock names no compressor")?
        .into();
    let source = Arc::new(Squashfs {
        image: image.clone(),
        offset: offset as u64,
        len: bytes_used.min(image.len().saturating_sub(offset as u64)),
        block_size: filesystem.block_size,
        compressor,
        fragments: filesystem.fragments.clone().unwrap_or_default(),
        fragment_cache: Mutex::new(HashMap::new()),
    });
    let container: Arc<str> = Arc::from(chain);
    for entry in filesystem.files() {
        let (kind, size, content) = match &entry.inner {
            InnerNode::File(file) => (
                NodeKind::File,
                file.file_len() as u64,
                Content::Squashfs(source.clone(), file.clone()),
            ),
            InnerNode::Symlink(link) => (
                NodeKind::Symlink(link.link.to_string_lossy().into_owned()),
                0,
                Content::None,
            ),
            InnerNode::Dir(_) => (NodeKind::Directory, 0, Content::None),
            _ => (NodeKind::Special, 0, Content::None),
        };
        mount(
            sandbox,
            vfs,
            &entry.fullpath.to_string_lossy(),
            kind,
            u32::from(entry.header.permissions),
            (entry.header.uid, entry.header.gid),
            size,
            &container,
            content,
        )?;
    }
    Ok(usize::try_from(bytes_used).ok())
}
