//! OSV as the project publishes it (<https://google.github.io/osv.dev/data/>): an
//! `all.zip` of one file per advisory, whole or per ecosystem, read member by member
//! (each within the size of one advisory file); a directory of OSV files; one file; and
//! the incremental way, `modified_id.csv` (`TIME,ID` or `TIME,ECOSYSTEM/ID`, newest
//! first), of which an import reads the records changed since its last one.

use std::io::Read;
use std::path::{Component as PathPart, Path, PathBuf};

use super::{Sink, read_error};
use crate::{Error, MAX_FILE, parse_error, parse_osv};

/// The most members of an archive read.
const MAX_MEMBERS: usize = 2_000_000;
/// The most lines of a `modified_id.csv` read.
const MAX_LINES: usize = 5_000_000;

/// Reads OSV records from a zip archive, a directory or one file.
pub fn read(path: &Path, sink: &mut Sink<'_>) -> Result<(), Error> {
    if path.is_dir() {
        for file in crate::json_files(path)? {
            read_file(&file, sink)?;
        }
        return Ok(());
    }
    let mut head = [0u8; 4];
    let file = std::fs::File::open(path).map_err(|error| read_error(path, &error))?;
    let read = file.take(4).read(&mut head).unwrap_or(0);
    if read == 4 && head == *b"PK\x03\x04" {
        read_zip(path, sink)
    } else {
        read_file(path, sink)
    }
}

fn read_file(path: &Path, sink: &mut Sink<'_>) -> Result<(), Error> {
    let text = crate::read_bounded(path, MAX_FILE)?;
    let advisories = parse_osv(&text).map_err(|error| parse_error(path, &error))?;
    for advisory in advisories {
        sink(advisory).map_err(|message| read_error(path, &message))?;
    }
    Ok(())
}

/// Reads every `.json` member of a zip archive.
pub fn read_zip(path: &Path, sink: &mut Sink<'_>) -> Result<(), Error> {
    let file = std::fs::File::open(path).map_err(|error| read_error(path, &error))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|error| read_error(path, &format!("not a readable zip archive: {error}")))?;
    if archive.len() > MAX_MEMBERS {
        return Err(read_error(
            path,
            &format!("more than {MAX_MEMBERS} members"),
        ));
    }
    let mut text = String::new();
    for index in 0..archive.len() {
        let member = archive
            .by_index(index)
            .map_err(|error| read_error(path, &format!("member {index}: {error}")))?;
        let Ok(name) = member.name().map(|name| name.into_owned()) else {
            continue;
        };
        if !member.is_file() || !name.ends_with(".json") {
            continue;
        }
        let place = path.join(&name);
        if member.size() > MAX_FILE {
            return Err(read_error(&place, &format!("larger than {MAX_FILE} bytes")));
        }
        text.clear();
        member
            .take(MAX_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|error| read_error(&place, &format!("unreadable ({error})")))?;
        let advisories = parse_osv(&text).map_err(|error| parse_error(&place, &error))?;
        for advisory in advisories {
            sink(advisory).map_err(|message| read_error(&place, &message))?;
        }
    }
    Ok(())
}

/// A record `modified_id.csv` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// When it last changed, normalised so that times compare as text.
    pub modified: String,
    /// Its path without `.json` (`DSA-5749-1`, or `Debian/DSA-5749-1` in the listing of
    /// all ecosystems).
    pub id: String,
}

/// The records of a `modified_id.csv` changed at or after `since` (a time as
/// [`normal_time`] writes it; all of them without one), newest first. A line that does
/// not read stops with its number.
pub fn changed_since(path: &Path, text: &str, since: Option<&str>) -> Result<Vec<Changed>, Error> {
    let mut changed = Vec::new();
    for (number, line) in text.lines().enumerate().take(MAX_LINES) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: &str| Error::Parse {
            path: path.to_owned(),
            line: number + 1,
            column: 1,
            message: message.to_owned(),
        };
        let (time, id) = line
            .split_once(',')
            .ok_or_else(|| bad("expected TIME,ID"))?;
        let modified = normal_time(time.trim()).ok_or_else(|| bad("not an RFC 3339 time"))?;
        let id = id.trim();
        if !safe_id(id) {
            return Err(bad("the id is not a plain relative path"));
        }
        if since.is_none_or(|since| modified.as_str() >= since) {
            changed.push(Changed {
                modified,
                id: id.to_owned(),
            });
        }
    }
    changed.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.id.cmp(&b.id)));
    Ok(changed)
}

/// Where a listed record lies under the listing's directory.
pub fn record_path(root: &Path, changed: &Changed) -> PathBuf {
    root.join(format!("{}.json", changed.id))
}

/// An id names a file below the listing: no absolute path, no `..`.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() < 512
        && Path::new(id)
            .components()
            .all(|part| matches!(part, PathPart::Normal(_)))
}

/// An RFC 3339 UTC time (`2024-08-21T19:59:03.771829Z`) as fixed-width text
/// (`2024-08-21T19:59:03.771829000Z`), so that times compare as strings.
pub fn normal_time(time: &str) -> Option<String> {
    let body = time.strip_suffix('Z').or(time.strip_suffix("+00:00"))?;
    let (seconds, fraction) = body.split_once('.').unwrap_or((body, ""));
    let shape_ok = seconds.len() == 19
        && seconds.as_bytes()[4] == b'-'
        && seconds.as_bytes()[10] == b'T'
        && fraction.len() <= 9
        && fraction.chars().all(|c| c.is_ascii_digit());
    shape_ok.then(|| format!("{seconds}.{fraction:0<9}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_compare_as_text_whatever_their_fraction() {
        let a = normal_time("2024-08-21T19:59:03Z").unwrap();
        let b = normal_time("2024-08-21T19:59:03.5Z").unwrap();
        let c = normal_time("2024-08-21T19:59:03.771829Z").unwrap();
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(normal_time("yesterday"), None);
        assert_eq!(normal_time("2024-08-21T19:59:03.12345678901Z"), None);
    }

    #[test]
    fn a_listing_gives_what_changed_since_and_refuses_paths_outside() {
        let path = Path::new("modified_id.csv");
        let text = "2024-08-22T00:00:00Z,Debian/DSA-2\n2024-08-21T00:00:00Z,DSA-1\n2024-08-20T00:00:00Z,OLD-1\n";
        let since = normal_time("2024-08-21T00:00:00Z");
        let ids: Vec<String> = changed_since(path, text, since.as_deref())
            .unwrap()
            .into_iter()
            .map(|changed| changed.id)
            .collect();
        assert_eq!(ids, ["Debian/DSA-2", "DSA-1"]);
        assert_eq!(changed_since(path, text, None).unwrap().len(), 3);
        for hostile in [
            "2024-08-22T00:00:00Z,../etc/passwd",
            "2024-08-22T00:00:00Z,/etc/x",
        ] {
            let Err(Error::Parse { line, .. }) = changed_since(path, hostile, None) else {
                panic!("{hostile} was read");
            };
            assert_eq!(line, 1);
        }
    }
}
