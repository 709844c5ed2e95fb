//! Compressed streams: gzip (one member or several), xz, lzma (alone), zstd and bzip2. Each is decompressed into
//! memory within the sandbox's budget, so a decompression bomb stops at the limit, and
//! the result is searched again for containers.

use std::io::Read;
use std::sync::Arc;

use super::{Format, Opened, Refused};
use crate::sandbox::Sandbox;

/// Header checks that weed out signatures occurring by chance.
pub(crate) fn plausible(format: Format, data: &[u8]) -> bool {
    match format {
        // Flags use 5 bits; XFL is 0, 2 or 4; OS is 0 to 13 or 255.
        Format::Gzip => {
            data.len() > 18
                && data[3] & 0xe0 == 0
                && matches!(data[8], 0 | 2 | 4)
                && (data[9] <= 13 || data[9] == 255)
        }
        Format::Xz => data.len() > 12,
        // Properties 0x5d, a dictionary of 2^n bytes from 64 KiB to 256 MiB, and an
        // unpacked size that is unknown (all ones) or below 4 GiB.
        Format::Lzma => {
            data.len() > 13 && {
                let dictionary = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
                let size = u64::from_le_bytes(data[5..13].try_into().unwrap_or_default());
                dictionary.is_power_of_two()
                    && (1 << 16..=1 << 28).contains(&dictionary)
                    && (size == u64::MAX || size < 1 << 32)
            }
        }
        Format::Zstd => data.len() > 8,
        // "BZh", a block size digit, then the block magic (the digits of pi).
        Format::Bzip2 => {
            data.len() > 10
                && (b'1'..=b'9').contains(&data[3])
                && data[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
        }
        _ => false,
    }
}

/// Reads a decoder to its end, refusing more than `budget` bytes.
fn drain(mut decoder: impl Read, budget: u64) -> Result<Vec<u8>, (Vec<u8>, String)> {
    let mut out = Vec::new();
    match (&mut decoder).take(budget + 1).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > budget => Err((
            out,
            format!("decompression stopped at the limit of {budget} bytes (a decompression bomb?)"),
        )),
        Ok(_) => Ok(out),
        Err(error) => Err((out, error.to_string())),
    }
}

pub(crate) fn open(
    format: Format,
    data: &Arc<[u8]>,
    offset: usize,
    sandbox: &Sandbox,
) -> Result<Opened, Refused> {
    let input = &data[offset..];
    let budget = sandbox.budget();
    // Each decoder reads from a slice; what it leaves unread gives the stream's span.
    let mut rest: &[u8] = input;
    let result = match format {
        // A gzip file may hold several members one after another (`cat a.gz b.gz`); their
        // contents concatenate.
        Format::Gzip => {
            let mut result = Ok(Vec::new());
            while let Ok(out) = &mut result {
                let mut decoder = flate2::bufread::GzDecoder::new(&mut rest);
                let left = budget - out.len() as u64;
                match drain(&mut decoder, left) {
                    Ok(member) => out.extend_from_slice(&member),
                    Err((member, reason)) => {
                        let mut out = std::mem::take(out);
                        out.extend_from_slice(&member);
                        result = Err((out, reason));
                        break;
                    }
                }
                if !rest.starts_with(&[0x1f, 0x8b, 0x08]) || !plausible(Format::Gzip, rest) {
                    break;
                }
            }
            result
        }
        Format::Xz => {
            let mut decoder = liblzma::bufread::XzDecoder::new(&mut rest);
            drain(&mut decoder, budget)
        }
        Format::Lzma => match liblzma::stream::Stream::new_lzma_decoder(u64::MAX) {
            Ok(stream) => {
                let mut decoder = liblzma::bufread::XzDecoder::new_stream(&mut rest, stream);
                drain(&mut decoder, budget)
            }
            Err(error) => Err((Vec::new(), error.to_string())),
        },
        Format::Zstd => match zstd::stream::read::Decoder::with_buffer(&mut rest) {
            Ok(decoder) => drain(decoder.single_frame(), budget),
            Err(error) => Err((Vec::new(), error.to_string())),
        },
        Format::Bzip2 => {
            let mut decoder = bzip2::bufread::BzDecoder::new(&mut rest);
            drain(&mut decoder, budget)
        }
        _ => return Err(Refused::NotThisFormat),
    };
    let span = input.len() - rest.len();
    match result {
        Ok(out) => Ok(Opened::decoded(out, span)),
        // A chance signature fails at once; a real stream fails later or at the limit.
        Err((out, reason)) if out.len() < 64 && !reason.contains("limit") => {
            Err(Refused::NotThisFormat)
        }
        Err((_, reason)) => Err(Refused::Broken(reason)),
    }
}
