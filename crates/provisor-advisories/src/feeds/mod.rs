//! The advisory feeds monitoring imports, each read as a stream so that a feed of any
//! size is held in memory one record at a time: OSV (`all.zip` archives, whole or per
//! ecosystem, and the incremental `modified_id.csv` listing), the Debian security
//! tracker's JSON, NVD's CVE JSON 2.0 feeds (matched by CPE, which covers vendor-built
//! components with no package ecosystem) and CISA's catalogue of known exploited
//! vulnerabilities. Each reader hands [`Advisory`] records to a callback; a callback's
//! error stops the read. Compressed feeds (gzip) are recognised by their first bytes.

pub mod debian;
pub mod kev;
pub mod nvd;
pub mod osv;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::{Advisory, Error};

/// The most bytes one feed yields, decompressed: a hostile archive must not fill memory
/// or run for ever.
pub const MAX_FEED: u64 = 8 << 30;

/// What a feed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// OSV: an `all.zip`, a directory of OSV files, or one OSV file.
    Osv,
    /// The Debian security tracker's JSON.
    Debian,
    /// An NVD CVE JSON 2.0 feed.
    Nvd,
    /// CISA's known exploited vulnerabilities catalogue.
    Kev,
}

impl Kind {
    /// Its name in configuration and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Osv => "osv",
            Kind::Debian => "debian",
            Kind::Nvd => "nvd",
            Kind::Kev => "kev",
        }
    }

    /// The kind of a name.
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "osv" => Kind::Osv,
            "debian" => Kind::Debian,
            "nvd" => Kind::Nvd,
            "kev" => Kind::Kev,
            _ => return None,
        })
    }
}

/// A callback's answer to a record: go on, or stop the read with an error.
pub type Sink<'a> = dyn FnMut(Advisory) -> Result<(), String> + 'a;

/// A reader of a file, decompressed when it is gzip, bounded to [`MAX_FEED`].
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, Error> {
    let file = std::fs::File::open(path).map_err(|error| read_error(path, &error))?;
    Ok(decompressed(Box::new(file)))
}

/// A reader decompressed when its first bytes are gzip's, bounded to [`MAX_FEED`].
pub fn decompressed(reader: Box<dyn Read>) -> Box<dyn BufRead> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let gzip = buffered
        .fill_buf()
        .map(|head| head.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    if gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(buffered).take(MAX_FEED),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, buffered.take(MAX_FEED)))
    }
}

pub(crate) fn read_error(path: &Path, error: &dyn std::fmt::Display) -> Error {
    Error::Read {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// Reads a JSON document's records through serde's streaming interface: `seed` visits
/// the document and calls the sink per record. A sink's error and a parse error both
/// come back with the place.
pub(crate) fn stream_json<'de, S>(path: &Path, reader: impl Read, seed: S) -> Result<(), Error>
where
    S: serde::de::DeserializeSeed<'de, Value = ()>,
{
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    seed.deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map_err(|error| crate::parse_error(path, &error))
}

/// The first line of a text, at most 300 characters.
pub(crate) fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}
