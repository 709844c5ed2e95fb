//! Block decompressors shared by the flash filesystems (squashfs, JFFS2, UBIFS, cramfs)
//! and archives (ZIP, lzop): zlib, raw deflate, zstd, bzip2, xz, LZMA ("alone" and raw),
//! JFFS2's rtime and LZO1X. Each
//! decodes one block into memory and refuses to produce more than a bound the caller
//! gives (a block's declared size), so hostile data can neither panic nor exhaust
//! memory.
//!
//! LZO1X has no well-kept decoder crate that survives hostile input, so it is decoded
//! here, following the bitstream of Linux's `lzo1x_decompress_safe`: every length and
//! distance is checked before it is used.

use std::io::Read;

/// Why a block could not be decoded.
pub(crate) type CodecError = String;

/// Reads a decoder to its end, refusing more than `limit` bytes.
fn bounded(decoder: impl Read, limit: usize, what: &str) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|error| format!("{what} data is corrupt: {error}"))?;
    if out.len() > limit {
        return Err(format!(
            "{what} data expands beyond the {limit} bytes declared"
        ));
    }
    Ok(out)
}

/// A zlib stream (RFC 1950), as squashfs, JFFS2, UBIFS and cramfs store blocks.
pub(crate) fn zlib(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    inflate_into(input, limit, true, &mut out)?;
    Ok(out)
}

/// As [`zlib`], appending to `out` (a filesystem's file decoded block by block).
pub(crate) fn zlib_into(input: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
    inflate_into(input, limit, true, out)
}

/// Raw deflate (RFC 1951), as UBIFS stores blocks.
pub(crate) fn deflate(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    inflate_into(input, limit, false, &mut out)?;
    Ok(out)
}

/// Inflates one block in a single call, appending at most `limit` bytes to `out`, with a
/// decoder kept per thread: a filesystem decodes thousands of blocks, and a fresh decoder
/// (its window and a read buffer) and a growing buffer for each cost more than the
/// inflating. A stream cut short gives what it holds, as a reader would; the callers
/// check sizes. On an error `out` may hold part of the block.
fn inflate_into(
    input: &[u8],
    limit: usize,
    zlib_header: bool,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    use flate2::{Decompress, FlushDecompress, Status};
    use std::cell::RefCell;
    thread_local! {
        static DECODERS: RefCell<[Decompress; 2]> =
            RefCell::new([Decompress::new(false), Decompress::new(true)]);
    }
    let what = if zlib_header { "zlib" } else { "deflate" };
    DECODERS.with_borrow_mut(|decoders| {
        let decoder = &mut decoders[usize::from(zlib_header)];
        decoder.reset(zlib_header);
        let start = out.len();
        // One byte beyond the limit tells an overlong stream from one that fills it; a
        // stream that fits ends in the room given (its trailer needs no output), so
        // room for one byte more is made only when a stream goes on.
        let most = start.saturating_add(limit).saturating_add(1);
        out.reserve(limit.min(1 << 20));
        loop {
            let consumed = decoder.total_in() as usize;
            let before = out.len();
            let status = decoder
                .decompress_vec(
                    input.get(consumed..).unwrap_or_default(),
                    out,
                    FlushDecompress::Finish,
                )
                .map_err(|error| format!("{what} data is corrupt: {error}"))?;
            if out.len() - start > limit {
                return Err(format!(
                    "{what} data expands beyond the {limit} bytes declared"
                ));
            }
            let progressed = out.len() > before || decoder.total_in() as usize > consumed;
            match status {
                Status::StreamEnd => return Ok(()),
                _ if out.len() == out.capacity() => {
                    out.reserve((out.len() - start).clamp(1, 1 << 20).min(most - out.len()));
                }
                _ if !progressed => return Ok(()),
                _ => {}
            }
        }
    })
}

/// A zstd frame, as UBIFS stores blocks.
pub(crate) fn zstd(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    let decoder =
        zstd::stream::read::Decoder::new(input).map_err(|error| format!("zstd: {error}"))?;
    bounded(decoder, limit, "zstd")
}

/// A bzip2 stream, as ZIP stores members.
pub(crate) fn bzip2(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    bounded(bzip2::read::BzDecoder::new(input), limit, "bzip2")
}

/// An xz stream, as ZIP stores members.
pub(crate) fn xz(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    bounded(liblzma::read::XzDecoder::new(input), limit, "xz")
}

/// An LZMA "alone" stream: 5 property bytes, an 8-byte size, then the data (squashfs'
/// lzma compressor).
pub(crate) fn lzma_alone(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    let stream = liblzma::stream::Stream::new_lzma_decoder(limit as u64 + (1 << 20))
        .map_err(|error| format!("lzma decoder: {error}"))?;
    bounded(
        liblzma::read::XzDecoder::new_stream(input, stream),
        limit,
        "lzma",
    )
}

/// Raw LZMA with the properties byte and dictionary size given apart from the data, as
/// JFFS2 stores it: rebuilt into an "alone" header.
pub(crate) fn lzma_raw(
    input: &[u8],
    properties: u8,
    dictionary: u32,
    limit: usize,
) -> Result<Vec<u8>, CodecError> {
    let mut stream = Vec::with_capacity(13 + input.len());
    stream.push(properties);
    stream.extend_from_slice(&dictionary.to_le_bytes());
    stream.extend_from_slice(&(limit as u64).to_le_bytes());
    stream.extend_from_slice(input);
    lzma_alone(&stream, limit)
}

/// Headerless LZMA: the properties byte is given apart from the data, the dictionary is
/// the output's size and no length is stored, as vendors' squashfs 1.x to 3.x store blocks.
/// Such a stream may end without an end marker: decoding stops where the input ends (or
/// at an end marker), and more than `limit` bytes is refused; when `exact`, decoding
/// stops at `limit` bytes, and fewer is an error.
pub(crate) fn lzma_headerless(
    input: &[u8],
    properties: u8,
    limit: usize,
    exact: bool,
) -> Result<Vec<u8>, CodecError> {
    let (lc, lp, pb) = (
        u32::from(properties % 9),
        u32::from(properties / 9 % 5),
        u32::from(properties / 45),
    );
    // liblzma decodes what LZMA allows but for literal bits beyond four in all.
    if properties >= 225 || lc + lp > 4 {
        return Err(format!("lzma properties {properties:#04x} are not valid"));
    }
    let mut options = liblzma::stream::LzmaOptions::new();
    options
        .literal_context_bits(lc)
        .literal_position_bits(lp)
        .position_bits(pb)
        // A match reaches back at most over what was decoded.
        .dict_size(u32::try_from(limit.max(4096)).unwrap_or(u32::MAX));
    let mut filters = liblzma::stream::Filters::new();
    filters.lzma1(&options);
    let mut stream = liblzma::stream::Stream::new_raw_decoder(&filters)
        .map_err(|error| format!("lzma decoder: {error}"))?;
    let capacity = if exact {
        limit
    } else {
        limit.saturating_add(1)
    };
    let mut out = Vec::with_capacity(capacity.min(64 << 20));
    loop {
        let consumed = stream.total_in() as usize;
        let produced = out.len();
        let status = stream
            .process_vec(
                &input[consumed.min(input.len())..],
                &mut out,
                liblzma::stream::Action::Run,
            )
            .map_err(|error| format!("lzma data is corrupt: {error}"))?;
        if out.len() > limit {
            return Err(format!(
                "lzma data expands beyond the {limit} bytes declared"
            ));
        }
        let done = status == liblzma::stream::Status::StreamEnd
            || stream.total_in() as usize >= input.len()
            || out.len() == out.capacity();
        if done || (stream.total_in() as usize == consumed && out.len() == produced) {
            if exact && out.len() != limit {
                return Err(format!(
                    "lzma data ends after {} of the {limit} bytes expected",
                    out.len()
                ));
            }
            return Ok(out);
        }
    }
}

/// JFFS2's "rtime" run-length coding: each literal byte is followed by the length of a
/// run copied from where that byte was last seen.
pub(crate) fn rtime(input: &[u8], size: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(size);
    let mut last_seen = [0usize; 256];
    let mut pairs = input.chunks_exact(2);
    while out.len() < size {
        let pair = pairs
            .next()
            .ok_or_else(|| "rtime data is corrupt: input ends early".to_owned())?;
        let (value, repeat) = (pair[0], usize::from(pair[1]));
        out.push(value);
        let from = last_seen[usize::from(value)];
        last_seen[usize::from(value)] = out.len();
        if out.len() + repeat > size {
            return Err(format!(
                "rtime data expands beyond the {size} bytes declared"
            ));
        }
        for index in from..from + repeat {
            let byte = out[index];
            out.push(byte);
        }
    }
    Ok(out)
}

/// Decodes an LZO1X block of at most `limit` bytes.
pub(crate) fn lzo1x(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    Lzo {
        input,
        at: 0,
        out: Vec::with_capacity(limit.min(1 << 20)),
        limit,
    }
    .run()
}

struct Lzo<'a> {
    input: &'a [u8],
    at: usize,
    out: Vec<u8>,
    limit: usize,
}

const LZO_CORRUPT: &str = "lzo data is corrupt";

impl Lzo<'_> {
    fn byte(&mut self) -> Result<usize, CodecError> {
        let byte = *self
            .input
            .get(self.at)
            .ok_or_else(|| format!("{LZO_CORRUPT}: input ends early"))?;
        self.at += 1;
        Ok(usize::from(byte))
    }

    fn le16(&mut self) -> Result<usize, CodecError> {
        Ok(self.byte()? | self.byte()? << 8)
    }

    /// A length continued in zero bytes (each adds 255) and a final non-zero byte.
    fn long_length(&mut self, base: usize) -> Result<usize, CodecError> {
        let mut zeros = 0usize;
        while self.input.get(self.at) == Some(&0) {
            self.at += 1;
            zeros += 1;
            if zeros * 255 > self.limit {
                return Err(format!("{LZO_CORRUPT}: a run longer than the block"));
            }
        }
        Ok(zeros * 255 + base + self.byte()?)
    }

    fn literals(&mut self, count: usize) -> Result<(), CodecError> {
        let end = self
            .at
            .checked_add(count)
            .filter(|&end| end <= self.input.len())
            .ok_or_else(|| format!("{LZO_CORRUPT}: literals run past the input"))?;
        if self.out.len() + count > self.limit {
            return Err(format!(
                "lzo data expands beyond the {} bytes declared",
                self.limit
            ));
        }
        self.out.extend_from_slice(&self.input[self.at..end]);
        self.at = end;
        Ok(())
    }

    /// Copies `length` bytes from `distance` bytes back (the copy may overlap itself).
    fn back_copy(&mut self, distance: usize, length: usize) -> Result<(), CodecError> {
        let start = self
            .out
            .len()
            .checked_sub(distance)
            .filter(|_| distance > 0)
            .ok_or_else(|| format!("{LZO_CORRUPT}: a match reaches before the start"))?;
        if self.out.len() + length > self.limit {
            return Err(format!(
                "lzo data expands beyond the {} bytes declared",
                self.limit
            ));
        }
        for index in start..start + length {
            let byte = self.out[index];
            self.out.push(byte);
        }
        Ok(())
    }

    fn run(mut self) -> Result<Vec<u8>, CodecError> {
        // `state` counts the literals the previous instruction copied (4: a long run).
        let mut state;
        let first = *self
            .input
            .first()
            .ok_or_else(|| format!("{LZO_CORRUPT}: empty block"))?;
        if first > 17 {
            self.at = 1;
            let count = usize::from(first) - 17;
            self.literals(count)?;
            state = if count < 4 { count } else { 4 };
        } else {
            state = 0;
        }
        loop {
            let instruction = self.byte()?;
            let next;
            if instruction < 16 {
                if state == 0 {
                    let count = if instruction == 0 {
                        self.long_length(15)?
                    } else {
                        instruction
                    } + 3;
                    self.literals(count)?;
                    state = 4;
                    continue;
                }
                next = instruction & 3;
                let high = self.byte()?;
                if state != 4 {
                    // Two bytes from up to 1 KiB back.
                    self.back_copy(1 + (instruction >> 2) + (high << 2), 2)?;
                } else {
                    // Three bytes from 2 to 3 KiB back.
                    self.back_copy(1 + 0x800 + (instruction >> 2) + (high << 2), 3)?;
                }
            } else if instruction >= 64 {
                next = instruction & 3;
                let high = self.byte()?;
                let distance = 1 + ((instruction >> 2) & 7) + (high << 3);
                self.back_copy(distance, (instruction >> 5) + 1)?;
            } else if instruction >= 32 {
                let length = match instruction & 31 {
                    0 => self.long_length(31)?,
                    short => short,
                } + 2;
                let word = self.le16()?;
                next = word & 3;
                self.back_copy(1 + (word >> 2), length)?;
            } else {
                let length = match instruction & 7 {
                    0 => self.long_length(7)?,
                    short => short,
                } + 2;
                let word = self.le16()?;
                next = word & 3;
                let distance = ((instruction & 8) << 11) + (word >> 2);
                if distance == 0 {
                    // The end-of-stream marker.
                    return Ok(self.out);
                }
                self.back_copy(distance + 0x4000, length)?;
            }
            self.literals(next)?;
            state = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vendor's kind of LZMA block: bare, with uncommon properties (lc=1 lp=2 pb=2) and
    /// no end marker (written by liblzma's LZMA1EXT encoder with the length known).
    #[test]
    fn headerless_lzma_ends_where_its_input_ends() {
        let block = include_bytes!("../../tests/fixtures/lzma-lc1-lp2-pb2-no-end-marker.bin");
        let text: String = (0..400).map(|i| format!("line {i} of a block\n")).collect();
        let properties = (2 * 5 + 2) * 9 + 1;
        assert_eq!(
            lzma_headerless(block, properties, 8192, false).unwrap(),
            text.as_bytes()
        );
        assert_eq!(
            lzma_headerless(block, properties, text.len(), true).unwrap(),
            text.as_bytes()
        );
        // Fewer bytes than expected, more than allowed, the usual properties instead.
        assert!(lzma_headerless(block, properties, text.len() + 1, true).is_err());
        assert!(lzma_headerless(block, properties, 4096, false).is_err());
        assert!(lzma_headerless(block, 0x5d, 8192, false).is_err());
        assert!(lzma_headerless(block, 225, 8192, false).is_err());
    }

    /// "abcabcabcabc…" as LZO1X-1 writes it: a literal run, a match, the end marker.
    #[test]
    fn lzo_decodes_literals_and_overlapping_matches() {
        // First byte 17 + 3 = 20: copy three literals "abc"; then an M2 match of length
        // 8 ((7 << 5) => length (7)+1) at distance 3; then the end marker (M4, distance 0).
        let distance = 3usize - 1;
        let m2 = (7 << 5) | ((distance & 7) << 2);
        let block = [
            20,
            b'a',
            b'b',
            b'c',
            m2 as u8,
            (distance >> 3) as u8,
            17,
            0,
            0,
        ];
        assert_eq!(lzo1x(&block, 64).unwrap(), b"abcabcabcab");
    }

    #[test]
    fn lzo_refuses_hostile_blocks() {
        // A match before the start, a run past the input, an expansion past the limit.
        assert!(lzo1x(&[64 | 4, 9], 64).is_err());
        assert!(lzo1x(&[30, b'a'], 64).is_err());
        let block = [20, b'a', b'b', b'c', 0xe4, 0, 17, 0, 0];
        assert!(lzo1x(&block, 5).is_err());
        assert!(lzo1x(&[], 5).is_err());
        assert!(lzo1x(&[0; 64], 1 << 20).is_err());
    }

    #[test]
    fn rtime_repeats_from_the_last_occurrence() {
        // "ab", then "a" repeating 3 bytes from after the previous "a": "b" + "a" + ...
        assert_eq!(rtime(&[b'a', 0, b'b', 0, b'a', 2], 5).unwrap(), b"ababa");
        assert!(rtime(&[b'a', 0], 5).is_err());
        assert!(rtime(&[b'a', 200], 5).is_err());
    }

    #[test]
    fn zlib_and_lzma_stop_at_the_declared_size() {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), Default::default());
        encoder.write_all(&[7u8; 10_000]).unwrap();
        let packed = encoder.finish().unwrap();
        assert_eq!(zlib(&packed, 10_000).unwrap().len(), 10_000);
        assert!(zlib(&packed, 9_999).is_err());
        assert!(zlib(b"not zlib", 100).is_err());
    }
}
