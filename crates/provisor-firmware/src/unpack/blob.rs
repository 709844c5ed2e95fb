//! The bytes unpackers read: a buffer in memory (a decompressed stream, a reassembled
//! volume) or a range of the image file, which stays on disk. Squashfs filesystems and
//! the uImage and TRX wrappers around them are read from the file in place, so a large
//! image costs page cache rather than the scan's own memory; other containers found in
//! a file are loaded into memory when one is first opened.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::{Carved, carve};

/// An image file opened once and read by position from any thread.
pub(crate) struct ImageFile {
    file: File,
    len: u64,
}

/// Bytes read at a time for checksums and digests.
const WINDOW: usize = 8 << 20;

/// Bytes carved at a time, at most. Unpacking searches a blob segment by segment and
/// resumes behind each container it opens, so that what a filesystem or archive holds
/// is not searched for signatures a second time; segments start small (most images
/// hold a container at or near their start) and double. Segments are read with an
/// overlap so that a header straddling two is seen whole (the largest header a
/// plausibility check reads is a tar header at 512 bytes and an ext superblock at
/// 1 KiB + 1 KiB).
pub(crate) const SEGMENT: u64 = 1 << 20;
pub(crate) const FIRST_SEGMENT: u64 = 64 << 10;
const OVERLAP: u64 = 64 << 10;

impl ImageFile {
    pub(crate) fn new(file: File, len: u64) -> ImageFile {
        ImageFile { file, len }
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Fills `buffer` from `offset`; reading past the end is an error.
    pub(crate) fn read_exact_at(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buffer, offset).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "reading {} bytes at offset {offset:#x}: {error} (did the file change while it was read?)",
                    buffer.len()
                ),
            )
        })
    }

    /// Loads `len` bytes from `start` into a new shared buffer.
    pub(crate) fn load(&self, start: u64, len: u64) -> io::Result<Arc<[u8]>> {
        let len = usize::try_from(len).map_err(|_| io::Error::other("range too large"))?;
        // Read straight into the shared buffer: a Vec turned into an Arc would be copied.
        let mut bytes: Arc<[u8]> = std::iter::repeat_n(0u8, len).collect();
        let buffer = Arc::get_mut(&mut bytes).expect("a new buffer has one owner");
        self.read_exact_at(start, buffer)?;
        Ok(bytes)
    }

    /// Runs `each` over consecutive chunks of a range (for checksums and digests).
    pub(crate) fn for_each_chunk(
        &self,
        start: u64,
        len: u64,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let mut buffer = vec![0u8; WINDOW];
        let mut done = 0u64;
        while done < len {
            let take = (len - done).min(WINDOW as u64) as usize;
            self.read_exact_at(start + done, &mut buffer[..take])?;
            each(&buffer[..take]);
            done += take as u64;
        }
        Ok(())
    }
}

/// A `Read + Seek` view of the whole file with its own position, for decoders that
/// want a reader (backhand).
pub(crate) struct FileReader {
    image: Arc<ImageFile>,
    position: u64,
}

impl FileReader {
    pub(crate) fn new(image: Arc<ImageFile>) -> FileReader {
        FileReader { image, position: 0 }
    }
}

impl Read for FileReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.image.file.read_at(buffer, self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

impl Seek for FileReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let position = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.image.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = position
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.position)
    }
}

/// Bytes to unpack: in memory, or a range of the image file.
#[derive(Clone)]
pub(crate) enum Blob {
    Memory(Arc<[u8]>),
    File {
        image: Arc<ImageFile>,
        start: u64,
        len: u64,
    },
}

impl Blob {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Blob::Memory(bytes) => bytes.len() as u64,
            Blob::File { len, .. } => *len,
        }
    }

    /// The bytes in memory (a range of the file is loaded).
    pub(crate) fn load(&self) -> io::Result<Arc<[u8]>> {
        match self {
            Blob::Memory(bytes) => Ok(bytes.clone()),
            Blob::File { image, start, len } => image.load(*start, *len),
        }
    }

    /// Reads `buffer.len()` bytes at `offset` within the blob.
    pub(crate) fn read_exact_at(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        let end = offset.checked_add(buffer.len() as u64);
        if end.is_none_or(|end| end > self.len()) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} bytes at offset {offset:#x} run past the end",
                    buffer.len()
                ),
            ));
        }
        match self {
            Blob::Memory(bytes) => {
                let offset = offset as usize;
                buffer.copy_from_slice(&bytes[offset..offset + buffer.len()]);
                Ok(())
            }
            Blob::File { image, start, .. } => image.read_exact_at(start + offset, buffer),
        }
    }

    /// `len` bytes at `offset` within the blob: borrowed from memory, or read from the
    /// file into a buffer of their size.
    pub(crate) fn bytes_at(&self, offset: u64, len: usize) -> io::Result<Cow<'_, [u8]>> {
        match self {
            Blob::Memory(bytes) => usize::try_from(offset)
                .ok()
                .and_then(|at| bytes.get(at..at.checked_add(len)?))
                .map(Cow::Borrowed)
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{len} bytes at offset {offset:#x} run past the end"),
                    )
                }),
            Blob::File { .. } => {
                let mut buffer = vec![0; len];
                self.read_exact_at(offset, &mut buffer)?;
                Ok(Cow::Owned(buffer))
            }
        }
    }

    /// A range of this blob (`offset` and `len` relative to it, already checked).
    pub(crate) fn range(&self, offset: u64, len: u64) -> io::Result<Blob> {
        match self {
            Blob::Memory(bytes) => {
                let offset = offset as usize;
                Ok(Blob::Memory(Arc::from(
                    &bytes[offset..offset + len as usize],
                )))
            }
            Blob::File { image, start, .. } => Ok(Blob::File {
                image: image.clone(),
                start: start + offset,
                len,
            }),
        }
    }

    /// The containers whose offsets lie in the `size` bytes at `from` (relative to the
    /// blob), in the order [`carve`] finds them; headers are read up to an overlap past
    /// the segment's end.
    pub(crate) fn carve_segment(&self, from: u64, size: u64) -> io::Result<Vec<Carved>> {
        let len = self.len();
        let end = from.saturating_add(size).min(len);
        let read_end = end.saturating_add(OVERLAP).min(len);
        let (owned, last) = ((end - from) as usize, end == len);
        let scan = |data: &[u8]| -> Vec<Carved> {
            carve(data)
                .into_iter()
                .filter(|carved| last || carved.offset < owned)
                .map(|carved| Carved {
                    format: carved.format,
                    offset: carved.offset + from as usize,
                })
                .collect()
        };
        match self {
            Blob::Memory(bytes) => Ok(scan(&bytes[from as usize..read_end as usize])),
            Blob::File { image, start, .. } => {
                let mut buffer = vec![0u8; (read_end - from) as usize];
                image.read_exact_at(start + from, &mut buffer)?;
                Ok(scan(&buffer))
            }
        }
    }

    /// CRC-32 of a range of this blob.
    pub(crate) fn crc32(&self, offset: u64, len: u64) -> io::Result<crc32fast::Hasher> {
        let mut hasher = crc32fast::Hasher::new();
        self.for_each_chunk(offset, len, |chunk| hasher.update(chunk))?;
        Ok(hasher)
    }

    /// SHA-256 of a range of this blob.
    pub(crate) fn sha256(&self, offset: u64, len: u64) -> io::Result<[u8; 32]> {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        self.for_each_chunk(offset, len, |chunk| hasher.update(chunk))?;
        Ok(hasher.finalize().into())
    }

    /// Hands a range of this blob (already checked) to `each` in pieces.
    pub(crate) fn for_each_chunk(
        &self,
        offset: u64,
        len: u64,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        match self {
            Blob::Memory(bytes) => {
                let offset = offset as usize;
                each(&bytes[offset..offset + len as usize]);
                Ok(())
            }
            Blob::File { image, start, .. } => image.for_each_chunk(start + offset, len, each),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plausible gzip header (flags 0, XFL 0, OS 3) followed by filler.
    const GZIP: &[u8] = &[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3];

    fn image_with(bytes: &[u8]) -> (tempfile::NamedTempFile, ImageFile) {
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::io::Write::write_all(&mut file, bytes).expect("written");
        let opened = File::open(file.path()).expect("reopened");
        (file, ImageFile::new(opened, bytes.len() as u64))
    }

    #[test]
    fn carving_by_segments_finds_what_one_pass_finds() {
        let segment = SEGMENT as usize;
        let mut bytes = vec![0x55u8; 2 * segment + 4096];
        // Straddling the first segment's end, inside its overlap, and at the last byte
        // a header fits before the end.
        for at in [segment - 3, segment + 10, 2 * segment - 1, bytes.len() - 40] {
            bytes[at..at + GZIP.len()].copy_from_slice(GZIP);
        }
        let (_file, image) = image_with(&bytes);
        let image = Arc::new(image);
        for blob in [
            Blob::File {
                image,
                start: 0,
                len: bytes.len() as u64,
            },
            Blob::Memory(Arc::from(bytes.as_slice())),
        ] {
            let mut segmented = Vec::new();
            let mut from = 0;
            while from < blob.len() {
                segmented.extend(blob.carve_segment(from, SEGMENT).expect("carved"));
                from += SEGMENT;
            }
            assert_eq!(segmented, carve(&bytes));
            assert_eq!(segmented.len(), 4);
        }
    }

    #[test]
    fn a_range_of_the_file_reads_like_the_same_bytes_in_memory() {
        let bytes: Vec<u8> = (0..100_000u32).map(|n| (n * 7 % 251) as u8).collect();
        let (_file, image) = image_with(&bytes);
        let file = Blob::File {
            image: Arc::new(image),
            start: 1000,
            len: 50_000,
        };
        let memory = Blob::Memory(Arc::from(&bytes[1000..51_000]));
        for blob in [&file, &memory] {
            let mut head = [0u8; 16];
            blob.read_exact_at(100, &mut head).expect("read");
            assert_eq!(head, bytes[1100..1116]);
            assert!(blob.read_exact_at(49_990, &mut head).is_err());
            assert_eq!(
                blob.crc32(10, 30_000).expect("crc").finalize(),
                crc32fast::hash(&bytes[1010..31_010])
            );
            let range = blob.range(5, 10).expect("range").load().expect("loaded");
            assert_eq!(&range[..], &bytes[1005..1015]);
        }
    }
}
