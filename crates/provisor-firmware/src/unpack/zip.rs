//! ZIP archives (vendor firmware bundles, Dahua and other update packages): members are
//! listed from the central directory when the archive is whole, and from the local
//! headers one after another when it is cut off (a truncated download, a carved
//! fragment), as far as they go. Members are decompressed when a check reads them:
//! stored, deflate, bzip2, LZMA, zstd and xz, each bounded by the member's declared
//! size. Unix modes and symbolic links are kept when the archive was made on Unix;
//! encrypted members are listed and read as unreadable. ZIP64 archives are read from
//! their local headers.
//!
//! An archive of a root filesystem (members under `etc/`, `bin/`, `usr/`, … at its top
//! or one directory down) is mounted; any other (a vendor's update bundle: an image, its
//! notes, a signature) hands its files on to be searched again, named by their paths,
//! decompressed within the sandbox's budget.

use std::sync::Arc;

use super::{Blob, Listed, Opened, Refused, codec, kind_of, le16, le32, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

const LOCAL: &[u8] = b"PK\x03\x04";
const CENTRAL: &[u8] = b"PK\x01\x02";
const END: &[u8] = b"PK\x05\x06";
/// The compression methods provisor decodes.
const METHODS: [u16; 6] = [0, 8, 12, 14, 93, 95];
/// The most members listed.
const MAX_MEMBERS: usize = 1_000_000;

/// A local header with a known method, a name of sensible length and no unknown flag.
pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= 30
        && data.starts_with(LOCAL)
        && le16(data, 4) <= 63
        && le16(data, 6) & 0xf000 == 0
        && METHODS.contains(&le16(data, 8))
        && (1..=4096).contains(&le16(data, 26))
}

/// One member: where its compressed data lies, how it is compressed, what it is.
#[derive(Debug, Clone)]
struct Member {
    name: String,
    start: usize,
    compressed: usize,
    size: usize,
    method: u16,
    encrypted: bool,
    mode: Option<u32>,
}

impl Member {
    /// What the member is and its mode: as the archive's Unix attributes say, else a
    /// directory when its name ends in `/`, else a file.
    fn kind(&self) -> (NodeKind, u32) {
        let directory = self.name.ends_with('/');
        let default = if directory { 0o40755 } else { 0o100644 };
        // A Unix mode without a file type (Python's zipfile writes 0600 alone) is a file
        // or directory by its name.
        let mode = match self.mode {
            Some(mode) if mode & 0o170000 == 0 => default & 0o170000 | mode,
            Some(mode) => mode,
            None => default,
        };
        let kind = if directory {
            NodeKind::Directory
        } else {
            kind_of(mode)
        };
        (kind, mode)
    }
}

/// Where a member's data starts: after its local header, name and extra field (whose
/// lengths may differ from the central directory's).
fn data_start(data: &[u8], local: usize) -> usize {
    local + 30 + le16(data, local + 26) as usize + le16(data, local + 28) as usize
}

/// The members' data, decompressed on demand.
struct Archive {
    data: Arc<[u8]>,
    members: Vec<Member>,
}

impl Archive {
    fn decode(&self, member: &Member, limit: usize) -> Result<Vec<u8>, String> {
        if member.encrypted {
            return Err("the member is encrypted".into());
        }
        let input = self
            .data
            .get(member.start..member.start + member.compressed)
            .ok_or("the member runs past the end of the archive")?;
        let limit = limit.min(member.size);
        match member.method {
            0 => Ok(input[..input.len().min(limit)].to_vec()),
            8 => codec::deflate(input, limit),
            12 => codec::bzip2(input, limit),
            // Two bytes of version, two of the properties' size, the properties (the
            // lc/lp/pb byte and the dictionary size), then raw LZMA.
            14 => {
                let properties = le16(input, 2) as usize;
                if properties != 5 || input.len() < 9 {
                    return Err("the LZMA member's header is malformed".into());
                }
                codec::lzma_raw(&input[9..], input[4], le32(input, 5), limit)
            }
            93 => codec::zstd(input, limit),
            95 => codec::xz(input, limit),
            other => Err(format!("compression method {other} is not supported")),
        }
    }
}

impl FileSource for Archive {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let member = self.members.get(id).ok_or("no such member")?;
        self.decode(member, usize::try_from(limit).unwrap_or(usize::MAX))
    }
}

/// The mode a member's external attributes give when it was made on Unix.
fn unix_mode(made_by: u16, attributes: u32) -> Option<u32> {
    (made_by >> 8 == 3 && attributes >> 16 != 0).then_some(attributes >> 16)
}

/// The central directory of the archive starting at `offset`, when an end record after
/// it points at one: the members and the end of the archive.
fn central(data: &[u8], offset: usize) -> Option<(Vec<Member>, usize)> {
    let finder = memchr::memmem::Finder::new(END);
    let mut from = offset;
    while let Some(found) = finder.find(&data[from..]) {
        let end = from + found;
        from = end + 4;
        let count = le16(data, end + 10) as usize;
        let size = le32(data, end + 12) as usize;
        let start = offset.checked_add(le32(data, end + 16) as usize)?;
        if start.checked_add(size)? > end || data.get(start..start + 4) != Some(CENTRAL) {
            continue;
        }
        let comment = le16(data, end + 20) as usize;
        let mut members = Vec::new();
        let mut at = start;
        for _ in 0..count.min(MAX_MEMBERS) {
            if data.get(at..at + 4) != Some(CENTRAL) || at + 46 > data.len() {
                return None;
            }
            let made_by = le16(data, at + 4);
            let flags = le16(data, at + 8);
            let method = le16(data, at + 10);
            let compressed = le32(data, at + 20) as usize;
            let size = le32(data, at + 24) as usize;
            let name_length = le16(data, at + 28) as usize;
            let extra = le16(data, at + 30) as usize;
            let note = le16(data, at + 32) as usize;
            let attributes = le32(data, at + 38);
            let local = offset.checked_add(le32(data, at + 42) as usize)?;
            let name = data.get(at + 46..at + 46 + name_length)?;
            if data.get(local..local + 4) != Some(LOCAL) {
                return None;
            }
            members.push(Member {
                name: String::from_utf8_lossy(name).into_owned(),
                start: data_start(data, local),
                compressed,
                size,
                method,
                encrypted: flags & 1 != 0,
                mode: unix_mode(made_by, attributes),
            });
            at += 46 + name_length + extra + note;
        }
        return Some((members, end + 22 + comment));
    }
    None
}

/// The members the local headers give, one after another, until one is cut off or its
/// size is not in its header (then only the central directory knows it).
fn local(data: &[u8], offset: usize) -> (Vec<Member>, usize) {
    let mut members = Vec::new();
    let mut at = offset;
    while members.len() < MAX_MEMBERS && plausible(&data[at..]) {
        let flags = le16(data, at + 6);
        let method = le16(data, at + 8);
        let compressed = le32(data, at + 18) as usize;
        let size = le32(data, at + 22) as usize;
        let name_length = le16(data, at + 26) as usize;
        let start = data_start(data, at);
        let Some(name) = data.get(at + 30..at + 30 + name_length) else {
            break;
        };
        // Sizes in a data descriptor after the data (flag 3) or in a ZIP64 field.
        if flags & 8 != 0 || compressed == u32::MAX as usize {
            break;
        }
        let Some(end) = start
            .checked_add(compressed)
            .filter(|&end| end <= data.len())
        else {
            break;
        };
        members.push(Member {
            name: String::from_utf8_lossy(name).into_owned(),
            start,
            compressed,
            size,
            method,
            encrypted: flags & 1 != 0,
            mode: None,
        });
        at = end;
    }
    (members, at)
}

/// Whether the members are a root filesystem: some lie under a directory a Unix root
/// has, at the top or one directory down (`rootfs/etc/passwd`).
fn holds_a_root_filesystem(members: &[Member]) -> bool {
    const ROOT: [&str; 6] = ["etc", "bin", "sbin", "usr", "lib", "var"];
    members.iter().any(|member| {
        let mut parts = member.name.trim_start_matches("./").split('/');
        let first = parts.next().unwrap_or("");
        let second = parts.next();
        ROOT.contains(&first)
            || (second.is_some_and(|second| ROOT.contains(&second)) && parts.next().is_some())
    })
}

pub(crate) fn mount_zip(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Opened, Refused> {
    if !plausible(&data[offset..]) {
        return Err(Refused::NotThisFormat);
    }
    let (members, end) = match central(data, offset) {
        Some(found) => found,
        None => {
            let (members, end) = local(data, offset);
            if members.is_empty() {
                return Err(Refused::Broken(
                    "the ZIP archive's first member is cut off or sized only in its central directory, which is missing".into(),
                ));
            }
            (members, end)
        }
    };
    let archive = Archive {
        data: data.clone(),
        members,
    };
    if !holds_a_root_filesystem(&archive.members) {
        let mut budget = sandbox.budget();
        let mut parts = Vec::new();
        for member in &archive.members {
            if member.kind().0 != NodeKind::File {
                continue;
            }
            let bytes = archive
                .decode(member, usize::try_from(budget).unwrap_or(usize::MAX))
                .map_err(|reason| {
                    Refused::Broken(format!("ZIP member {}: {reason}", member.name))
                })?;
            budget = budget.saturating_sub(bytes.len() as u64);
            parts.push((member.name.clone(), Blob::Memory(Arc::from(bytes))));
        }
        return Ok(Opened::Inner {
            parts,
            span: end - offset,
        });
    }
    let entries: Vec<Listed> = archive
        .members
        .iter()
        .enumerate()
        .map(|(id, member)| {
            let (kind, mode) = member.kind();
            let name = member.name.clone();
            match kind {
                NodeKind::Symlink(_) => {
                    let target = archive
                        .decode(member, 4096)
                        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                        .unwrap_or_default();
                    (name, NodeKind::Symlink(target), mode, (0, 0), 0, None)
                }
                NodeKind::File => (name, kind, mode, (0, 0), member.size as u64, Some(id)),
                other => (name, other, mode, (0, 0), 0, None),
            }
        })
        .collect();
    mount_decoded(sandbox, vfs, chain, Arc::new(archive), entries)?;
    Ok(Opened::Mounted {
        span: Some(end - offset),
    })
}
