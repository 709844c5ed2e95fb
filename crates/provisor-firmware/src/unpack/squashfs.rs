//! SquashFS 4.0 (both byte orders; gzip, xz, lzma, lzo, zstd and lz4) through backhand.
//! Files are listed eagerly and read lazily from the image. backhand decodes gzip, xz,
//! zstd and lz4 itself; lzo and lzma blocks go through provisor's own bounded decoders.

use std::io::{BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use backhand::compression::{CompressionAction, Compressor, DefaultCompressor};
use backhand::kind::{BE_V4_0, Kind, LE_V4_0};
use backhand::{
    BackhandError, FilesystemCompressor, FilesystemReader, InnerNode, SquashfsFileReader,
    SuperBlock,
};

use super::blob::FileReader;
use super::{Blob, codec, mount};
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

/// A mounted squashfs whose files are read lazily. backhand keeps every fragment block
/// it decodes for the life of its reader; the reader is replaced every
/// [`READS_PER_READER`] reads, so that the cache, and the memory it holds, stays bounded.
pub(crate) struct Squashfs {
    image: Blob,
    offset: usize,
    big_endian: bool,
    reader: RwLock<Arc<FilesystemReader<'static>>>,
    reads: AtomicUsize,
}

/// Reads between two replacements of backhand's reader.
const READS_PER_READER: usize = 1024;

impl Squashfs {
    /// Reads a file, at most `limit + 1` bytes of it.
    pub(crate) fn read(
        &self,
        file: &SquashfsFileReader,
        limit: u64,
        bytes: &mut Vec<u8>,
    ) -> Result<(), String> {
        let reader = self
            .reader
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        // A panic in the decoder on hostile data is a corrupt file, not a crash.
        let read = crate::contain::contained(|| {
            reader
                .file(file)
                .reader()
                .take(limit + 1)
                .read_to_end(bytes)
        });
        drop(reader);
        if (self.reads.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(READS_PER_READER)
            && let Ok(fresh) = open(&self.image, self.offset, self.big_endian)
        {
            *self
                .reader
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(fresh);
        }
        match read {
            Ok(result) => result.map(|_| ()).map_err(|error| error.to_string()),
            Err(_) => Err("the decoder failed on malformed data".into()),
        }
    }
}

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
    let filesystem = Arc::new(filesystem);
    let source = Arc::new(Squashfs {
        image: image.clone(),
        offset,
        big_endian,
        reader: RwLock::new(filesystem.clone()),
        reads: AtomicUsize::new(0),
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
