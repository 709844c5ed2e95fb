//! 7-Zip archives through sevenz-rust2 (LZMA, LZMA2, deflate, bzip2, zstd, copy and the
//! branch filters; PPMd is not built in): the 32-byte start header (signature, version,
//! CRC over the next header's place) checked first, then the archive's entries. Members
//! of a solid archive can only be decoded in order, so every member is decoded when the
//! archive is opened, each at most as large as a check reads and all within the
//! sandbox's budget. Unix modes and links come from the high 16 bits of the attributes,
//! as p7zip and 7-Zip for Linux store them. An encrypted archive is reported as such.

use std::io::{Cursor, Read};
use std::sync::Arc;

use super::{Listed, Refused, kind_of, le32, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

const MAGIC: &[u8; 6] = b"7z\xbc\xaf\x27\x1c";
const START_HEADER: usize = 32;
/// Windows' attribute that says the high 16 bits hold a Unix mode.
const UNIX_EXTENSION: u32 = 0x8000;

fn le64(data: &[u8], at: usize) -> u64 {
    u64::from(le32(data, at)) | u64::from(le32(data, at + 4)) << 32
}

/// The signature, major version 0, and the start header's CRC.
pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= START_HEADER
        && data.starts_with(MAGIC)
        && data[6] == 0
        && crc32fast::hash(&data[12..32]) == le32(data, 8)
}

/// The members decoded.
struct Members(Vec<Vec<u8>>);

impl FileSource for Members {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let data = self.0.get(id).ok_or("no such member")?;
        Ok(data[..data
            .len()
            .min(usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX))]
            .to_vec())
    }
}

/// Mounts the archive at `offset`; returns the bytes it spans.
pub(crate) fn mount_7z(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let header = &data[offset..];
    let span = START_HEADER as u64 + le64(header, 12).saturating_add(le64(header, 20));
    let available = header.len() as u64;
    if span > available {
        return Err(Refused::Broken(format!(
            "7-Zip archive declares {span} bytes, only {available} are present (truncated archive?)"
        )));
    }
    let bytes = &header[..span as usize];
    let file_limit = sandbox.limits().max_file_read;
    let mut budget = sandbox.budget();
    let most = sandbox.limits().max_files;
    // The decoder may panic on hostile headers: a broken archive, not a crash.
    let decoded = crate::contain::contained(|| {
        let mut reader =
            sevenz_rust2::ArchiveReader::new(Cursor::new(bytes), sevenz_rust2::Password::empty())?;
        if reader.archive().files.len() > most {
            return Err(sevenz_rust2::Error::Other(
                format!("more than {most} members").into(),
            ));
        }
        let mut members: Vec<(sevenz_rust2::ArchiveEntry, Vec<u8>)> = Vec::new();
        reader.for_each_entries(|entry, content| {
            let mut data = Vec::new();
            if entry.has_stream() {
                let limit = entry.size().min(file_limit).min(budget);
                content.take(limit).read_to_end(&mut data)?;
                budget = budget.saturating_sub(data.len() as u64);
            }
            members.push((entry.clone(), data));
            Ok(true)
        })?;
        Ok(members)
    });
    let members = match decoded {
        Ok(Ok(members)) => members,
        // Without the password, and without AES built in, an encrypted archive is only
        // identified.
        Ok(Err(
            sevenz_rust2::Error::PasswordRequired | sevenz_rust2::Error::MaybeBadPassword(_),
        )) => return Err(Refused::Encrypted("7-Zip with a password".into())),
        Ok(Err(sevenz_rust2::Error::UnsupportedCompressionMethod(method)))
            if method.starts_with("AES") =>
        {
            return Err(Refused::Encrypted("7-Zip with a password".into()));
        }
        Ok(Err(error)) => return Err(Refused::Broken(format!("7-Zip archive: {error}"))),
        Err(()) => {
            return Err(Refused::Broken(
                "7-Zip archive: the decoder failed on malformed data".into(),
            ));
        }
    };
    let mut files = Vec::new();
    let mut listed: Vec<Listed> = Vec::new();
    for (entry, data) in members {
        if entry.is_anti_item {
            continue;
        }
        let attributes = entry.windows_attributes();
        let unix = (attributes & UNIX_EXTENSION != 0).then_some(attributes >> 16);
        let mode = unix.unwrap_or(if entry.is_directory() {
            0o040755
        } else {
            0o100644
        });
        let path = format!("/{}", entry.name());
        let kind = if entry.is_directory() {
            NodeKind::Directory
        } else {
            match kind_of(mode) {
                NodeKind::Symlink(_) => {
                    NodeKind::Symlink(String::from_utf8_lossy(&data).into_owned())
                }
                NodeKind::Special => NodeKind::Special,
                _ => NodeKind::File,
            }
        };
        let file = (kind == NodeKind::File).then(|| {
            files.push(data);
            files.len() - 1
        });
        listed.push((path, kind, mode, (0, 0), entry.size(), file));
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(Members(files)), listed)?;
    Ok(Some(span as usize))
}
