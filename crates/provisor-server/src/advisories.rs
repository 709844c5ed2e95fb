//! The advisory database firmware scans match components against. A server admin
//! uploads it in the format `provisor advisories import` reads (OSV JSON files, each one
//! advisory or an array of them, or tar archives of such files, gzip-compressed or not)
//! or as the database file that command writes. It is kept as one file in the data
//! directory, which workers on other machines share, replaced whole and atomically, and
//! each replacement is in the audit log. An upload that does not read is refused with
//! the file, line and column, and the database in use stays as it was.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use provisor_advisories::Database;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::{ApiError, AppState, ProblemPlace};

/// The database's file name in the data directory.
pub const FILE: &str = "advisories.json";
/// The largest OSV file read from an archive.
const MAX_MEMBER: u64 = 16 << 20;
/// The most OSV files one upload brings.
const MAX_MEMBERS: usize = 500_000;
/// The most bytes the OSV files of one upload hold together, decompressed: a small
/// archive must not fill the disk.
const MAX_TOTAL: u64 = 4 << 30;

/// What the database in use holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdvisoriesSummary {
    /// When it was imported (RFC 3339).
    pub imported: String,
    /// What it was imported from.
    pub source: String,
    /// The advisories.
    pub advisories: usize,
    /// The affected packages over all advisories.
    pub affected: usize,
}

impl AdvisoriesSummary {
    fn of(database: &Database) -> AdvisoriesSummary {
        AdvisoriesSummary {
            imported: database.imported.clone(),
            source: database.source.clone(),
            advisories: database.advisories.len(),
            affected: database.affected_count(),
        }
    }
}

fn location(state: &AppState) -> PathBuf {
    state.config().data.join(FILE)
}

/// What identifies one version of the database file: a replacement is a rename onto it,
/// which changes its inode, and any rewrite its length or time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    length: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(metadata: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            length: metadata.len(),
            modified: metadata.modified().ok(),
            inode,
        }
    }
}

/// The database as last read, kept while its file stays the same: a scan does not read
/// and parse a large database again (an import of a whole ecosystem is hundreds of MB).
#[derive(Debug, Default)]
pub(crate) struct Loaded(std::sync::Mutex<Option<(Stamp, Arc<Database>)>>);

/// The database in use, if one was uploaded: the one read before while its file has not
/// changed. It reads the file when it did (blocking: call it off the async threads).
pub fn load(state: &AppState) -> Result<Option<Arc<Database>>, ApiError> {
    let path = location(state);
    let mut loaded = state
        .advisories()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            *loaded = None;
            return Ok(None);
        }
        Err(error) => {
            return Err(ApiError::internal(format!(
                "the advisory database {} cannot be read ({error})",
                path.display()
            )));
        }
    };
    let stamp = Stamp::of(&metadata);
    if let Some((known, database)) = loaded.as_ref()
        && *known == stamp
    {
        return Ok(Some(database.clone()));
    }
    let database = Database::load(&path).map(Arc::new).map_err(|error| {
        ApiError::internal(format!(
            "the advisory database {} cannot be read ({error}); upload it again",
            path.display()
        ))
    })?;
    *loaded = Some((stamp, database.clone()));
    Ok(Some(database))
}

/// What the database in use holds, if one was uploaded.
pub async fn summary(state: &AppState) -> Result<Option<AdvisoriesSummary>, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        load(&state).map(|database| database.map(|database| AdvisoriesSummary::of(&database)))
    })
    .await
    .map_err(ApiError::internal)?
}

/// One uploaded file: the name it was sent under and where it was received.
pub struct Upload {
    /// The file's name, for messages.
    pub name: String,
    /// The received bytes.
    pub path: PathBuf,
}

/// Replaces the database with what the uploads hold (server admins).
pub async fn replace(
    state: &AppState,
    caller: &Caller,
    uploads: Vec<Upload>,
) -> Result<AdvisoriesSummary, ApiError> {
    caller.require_server_admin()?;
    if uploads.is_empty() {
        return Err(refused(
            "upload",
            "choose OSV JSON files, a tar archive of them, or a provisor advisory database",
        ));
    }
    // Everything in the making goes under the uploads directory, which the server
    // empties at start: a server killed mid-import leaves nothing behind.
    let making = crate::api::assessments::temporary_dir(state)?;
    let scratch = tempfile::tempdir_in(&making).map_err(ApiError::internal)?;
    let imported = crate::api::assessments::humantime_rfc3339(provisor_store::now_ms());
    let target = location(state);
    let database = tokio::task::spawn_blocking(move || {
        let database = build(&uploads, scratch.path(), &imported)?;
        // Written on the same file system and renamed: a reader sees the old or the new.
        let mut temporary = tempfile::NamedTempFile::new_in(&making).map_err(ApiError::internal)?;
        temporary
            .write_all(database.to_json().as_bytes())
            .and_then(|()| temporary.as_file().sync_all())
            .map_err(ApiError::internal)?;
        temporary
            .persist(&target)
            .map_err(|error| ApiError::internal(error.error))?;
        Ok::<Database, ApiError>(database)
    })
    .await
    .map_err(ApiError::internal)??;
    let summary = AdvisoriesSummary::of(&database);
    state
        .store()
        .record_event(
            &caller.actor(),
            "advisories.import",
            FILE,
            &serde_json::json!(summary),
        )
        .await?;
    Ok(summary)
}

fn refused(location: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(
        "the advisories cannot be imported; the database in use is unchanged",
        vec![ProblemPlace {
            location: location.to_owned(),
            message: message.into(),
        }],
    )
}

/// Reads the uploads into a database: a lone provisor database is taken as it is;
/// otherwise every OSV file (uploaded, or a `.json` member of an uploaded archive) is
/// laid out in `scratch` under a plain name and imported as the CLI imports a
/// directory, its errors named after the file as uploaded.
fn build(uploads: &[Upload], scratch: &Path, imported: &str) -> Result<Database, ApiError> {
    build_within(uploads, scratch, imported, MAX_TOTAL)
}

/// [`build`], the OSV files holding at most `total` bytes together.
fn build_within(
    uploads: &[Upload],
    scratch: &Path,
    imported: &str,
    total: u64,
) -> Result<Database, ApiError> {
    let mut names: Vec<String> = Vec::new();
    let mut written = 0u64;
    let mut place = |name: String, reader: &mut dyn Read| -> Result<(), ApiError> {
        if names.len() >= MAX_MEMBERS {
            return Err(refused(
                &name,
                format!("more than {MAX_MEMBERS} advisory files"),
            ));
        }
        let path = scratch.join(format!("{:08}.json", names.len()));
        let mut file = std::fs::File::create(&path).map_err(ApiError::internal)?;
        let allowed = MAX_MEMBER.min(total - written);
        let copied = std::io::copy(&mut reader.take(allowed + 1), &mut file)
            .map_err(|error| refused(&name, format!("cannot be read: {error}")))?;
        if copied > MAX_MEMBER {
            return Err(refused(&name, format!("larger than {MAX_MEMBER} bytes")));
        }
        if copied > allowed {
            return Err(refused(
                &name,
                format!("the files hold more than {total} bytes together, decompressed"),
            ));
        }
        written += copied;
        names.push(name);
        Ok(())
    };
    for upload in uploads {
        let mut head = [0u8; 262];
        let read = std::fs::File::open(&upload.path)
            .and_then(|mut file| read_up_to(&mut file, &mut head))
            .map_err(ApiError::internal)?;
        let head = &head[..read];
        let open = || std::fs::File::open(&upload.path).map_err(ApiError::internal);
        if head.starts_with(&[0x1f, 0x8b]) {
            let decoder = flate2::read::GzDecoder::new(open()?);
            members(&upload.name, decoder, &mut place)?;
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            members(&upload.name, open()?, &mut place)?;
        } else {
            if uploads.len() == 1 && is_database(head) {
                return Database::load(&upload.path).map_err(|error| explain(error, &upload.name));
            }
            place(upload.name.clone(), &mut open()?)?;
        }
    }
    if names.is_empty() {
        return Err(refused(
            "upload",
            "no .json advisory file was found in what was uploaded",
        ));
    }
    let source = {
        let listed: Vec<&str> = uploads
            .iter()
            .map(|upload| upload.name.as_str())
            .take(5)
            .collect();
        let mut text = format!("upload: {}", listed.join(", "));
        if uploads.len() > 5 {
            text.push_str(&format!(" and {} more", uploads.len() - 5));
        }
        text
    };
    let mut database = Database::import(scratch, imported).map_err(|error| {
        // The scratch file's number is its index among the names.
        let index = match &error {
            provisor_advisories::Error::Parse { path, .. }
            | provisor_advisories::Error::Read { path, .. } => path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .and_then(|stem| stem.parse::<usize>().ok()),
        };
        let name = index
            .and_then(|index| names.get(index))
            .cloned()
            .unwrap_or_else(|| "upload".to_owned());
        explain(error, &name)
    })?;
    database.source = source;
    if database.advisories.is_empty() {
        return Err(refused("upload", "the files hold no advisory"));
    }
    Ok(database)
}

/// Feeds every `.json` regular file of a tar archive to `place`, named `archive: member`.
fn members(
    archive: &str,
    reader: impl Read,
    place: &mut impl FnMut(String, &mut dyn Read) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let mut tar = tar::Archive::new(reader);
    let entries = tar
        .entries()
        .map_err(|error| refused(archive, format!("is not a readable tar archive: {error}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|error| refused(archive, format!("breaks off: {error}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry
            .path()
            .map(|path| path.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !member.ends_with(".json") {
            continue;
        }
        place(format!("{archive}: {member}"), &mut entry)?;
    }
    Ok(())
}

/// Whether a JSON file's first bytes are a provisor advisory database's.
fn is_database(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.starts_with(&format!("{{\"format\":\"{}\"", provisor_advisories::FORMAT))
}

fn explain(error: provisor_advisories::Error, name: &str) -> ApiError {
    match error {
        provisor_advisories::Error::Parse {
            line,
            column,
            message,
            ..
        } => refused(
            &format!("{name}:{line}:{column}"),
            format!(
                "{message} (the advisories must be OSV JSON: https://ossf.github.io/osv-schema/)"
            ),
        ),
        provisor_advisories::Error::Read { message, .. } => refused(name, message),
    }
}

fn read_up_to(file: &mut std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (name, bytes) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            archive
                .append_data(&mut header, name, bytes.as_slice())
                .unwrap();
        }
        archive.into_inner().unwrap().finish().unwrap()
    }

    /// A small compressed archive that decompresses past the bound is refused before
    /// it is all written out; member names are never used as paths.
    #[test]
    fn an_archive_is_bounded_by_what_it_holds_decompressed() {
        let advisory = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/advisories/CVE-2022-28391.json"),
        )
        .unwrap();
        let padding = vec![b' '; 64 << 10];
        let mut big = advisory.clone();
        big.extend_from_slice(&padding);
        let members: Vec<(&str, Vec<u8>)> = vec![("a.json", big.clone()), ("b.json", big)];
        let directory = tempfile::tempdir().unwrap();
        let upload = directory.path().join("bomb.tar.gz");
        std::fs::write(&upload, tar_gz(&members)).unwrap();
        assert!(
            std::fs::metadata(&upload).unwrap().len() < 8 << 10,
            "it compresses"
        );
        let uploads = [Upload {
            name: "bomb.tar.gz".into(),
            path: upload.clone(),
        }];
        let scratch = tempfile::tempdir().unwrap();
        let refused = build_within(&uploads, scratch.path(), "now", 100 << 10).unwrap_err();
        assert!(
            refused.places()[0]
                .message
                .contains("more than 102400 bytes together"),
            "{:?}",
            refused.places()
        );
        let scratch = tempfile::tempdir().unwrap();
        let database = build_within(&uploads, scratch.path(), "now", 1 << 20).unwrap();
        assert_eq!(
            database.advisories.len(),
            1,
            "the same advisory twice is one"
        );
        // A member named to escape is read, not written where it points.
        let escaping = directory.path().join("escape.tar");
        let mut archive = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(advisory.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(&mut header, "osv/CVE.json", advisory.as_slice())
            .unwrap();
        let mut bytes = archive.into_inner().unwrap();
        // Rename the member in place to one that climbs out (tar's builder refuses `..`).
        let at = bytes
            .windows(12)
            .position(|w| w == b"osv/CVE.json")
            .unwrap();
        bytes[at..at + 12].copy_from_slice(b"../../x.json");
        let header = tar::Header::from_byte_slice(&bytes[..512]).clone();
        let mut fixed = header;
        fixed.set_cksum();
        bytes[..512].copy_from_slice(fixed.as_bytes());
        std::fs::write(&escaping, bytes).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let database = build_within(
            &[Upload {
                name: "escape.tar".into(),
                path: escaping,
            }],
            scratch.path(),
            "now",
            1 << 20,
        )
        .unwrap();
        assert_eq!(database.advisories.len(), 1);
        assert!(!scratch.path().join("../../x.json").exists());
        assert!(!directory.path().join("x.json").exists());
    }
}
