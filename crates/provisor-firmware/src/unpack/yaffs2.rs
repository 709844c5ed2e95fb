//! YAFFS2, the log-structured filesystem of raw NAND (Android before ext4, many cameras
//! and routers): pages of data (a chunk) each followed by a spare area whose packed tags
//! name the object, the chunk's place in it and a sequence number. Chunk 0 of an object
//! is its header (type, parent, name, mode, owners, size, a link's target); chunks from 1
//! hold its data. There is no magic and no superblock: the geometry (chunk size 512 to
//! 16 KiB, spare size 16 to 512 bytes, the tags at the spare's start or behind a 2-byte
//! bad block marker, or tags inside the chunk when there is no spare) and the byte order
//! are found by checking the first chunks' tags against their contents.
//!
//! A dump holds obsolete copies of chunks: the newest (highest sequence number, then
//! latest place) wins. Objects are attached to their parents by number, each path
//! resolved at most as deep as the sandbox allows, so a loop in the tree ends.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Listed, Refused, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

/// The header flag in the chunk field of packed tags, with the parent in its low bits
/// and the object's type in the object field's top four bits.
const EXTRA_HEADER: u32 = 0x8000_0000;
const ROOT: u32 = 1;
/// Objects whose parent is one of these are unlinked or deleted.
const UNLINKED: u32 = 3;
const DELETED: u32 = 4;
/// The packed tags: sequence number, object, chunk, byte count.
const TAGS: usize = 16;
const NAME: usize = 10;
const NAME_LENGTH: usize = 256;
const ALIAS: usize = 300;
const ALIAS_LENGTH: usize = 160;

/// Where the chunks and their tags lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    chunk: usize,
    spare: usize,
    /// The tags' offset in the page (after the chunk, or inside it).
    tags: usize,
    big: bool,
}

impl Geometry {
    fn page(self) -> usize {
        self.chunk + self.spare
    }

    /// Data bytes a chunk holds (less the tags when they are inside it).
    fn data(self) -> usize {
        if self.spare == 0 {
            self.chunk - TAGS
        } else {
            self.chunk
        }
    }

    fn word(self, data: &[u8], at: usize) -> Option<u32> {
        let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    /// The tags of page `index`; none when erased or cut off.
    fn tags(self, data: &[u8], index: usize) -> Option<Tags> {
        let at = index.checked_mul(self.page())?.checked_add(self.tags)?;
        let (sequence, object, chunk, bytes) = (
            self.word(data, at)?,
            self.word(data, at + 4)?,
            self.word(data, at + 8)?,
            self.word(data, at + 12)?,
        );
        if sequence == u32::MAX || sequence == 0 || object == 0 {
            return None;
        }
        Some(if chunk & EXTRA_HEADER != 0 {
            Tags {
                sequence,
                object: object & 0x0fff_ffff,
                chunk: 0,
                bytes,
            }
        } else {
            Tags {
                sequence,
                object,
                chunk,
                bytes,
            }
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Tags {
    sequence: u32,
    object: u32,
    chunk: u32,
    bytes: u32,
}

/// An object header's type: file, symlink, directory, hard link, special.
fn header_type(geometry: Geometry, data: &[u8], page: usize) -> Option<u32> {
    let at = page * geometry.page();
    let kind = geometry.word(data, at)?;
    let name = data.get(at + NAME..at + NAME + NAME_LENGTH)?;
    ((1..=5).contains(&kind) && name.contains(&0)).then_some(kind)
}

/// Whether the first pages read as YAFFS2 under a geometry: the first a header (where
/// the signature was found) whose tags say so, the next ones erased, headers or data
/// chunks with a sensible byte count.
fn fits(geometry: Geometry, data: &[u8]) -> bool {
    let first_is_header = geometry
        .tags(data, 0)
        .is_some_and(|tags| tags.chunk == 0 && header_type(geometry, data, 0).is_some());
    first_is_header
        && (1..(data.len() / geometry.page()).min(4)).all(|page| match geometry.tags(data, page) {
            None => true,
            Some(tags) if tags.chunk == 0 => header_type(geometry, data, page).is_some(),
            Some(tags) => tags.chunk <= 1 << 20 && tags.bytes as usize <= geometry.data(),
        })
}

/// Finds the geometry and byte order, most common layouts first.
fn geometry(data: &[u8]) -> Option<Geometry> {
    for big in [false, true] {
        for chunk in [2048, 4096, 8192, 16384, 1024, 512] {
            let mut spares: Vec<usize> = vec![chunk / 32];
            spares.extend((16..=512).step_by(16).filter(|&spare| spare != chunk / 32));
            for spare in spares {
                for offset in [0, 2] {
                    let geometry = Geometry {
                        chunk,
                        spare,
                        tags: chunk + offset,
                        big,
                    };
                    if fits(geometry, data) {
                        return Some(geometry);
                    }
                }
            }
            // No spare: the tags in the chunk's last bytes.
            let inband = Geometry {
                chunk,
                spare: 0,
                tags: chunk - TAGS,
                big,
            };
            if fits(inband, data) {
                return Some(inband);
            }
        }
    }
    None
}

/// A file or symlink or directory header starting with its parent the root: the
/// signature's check (the geometry is found when the filesystem is opened).
pub(crate) fn plausible(data: &[u8]) -> bool {
    data.get(NAME..NAME + NAME_LENGTH)
        .is_some_and(|name| name[0] != 0 && name.contains(&0))
}

/// A mounted volume; files are read chunk by chunk.
struct Volume {
    image: Arc<[u8]>,
    base: usize,
    geometry: Geometry,
    /// The newest copy of each data chunk: its page and byte count.
    chunks: HashMap<(u32, u32), (usize, usize)>,
    files: Vec<(u32, u64)>,
}

impl FileSource for Volume {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let &(object, size) = self.files.get(id).ok_or("no such file")?;
        let wanted = usize::try_from(size.min(limit.saturating_add(1))).unwrap_or(usize::MAX);
        let per_chunk = self.geometry.data();
        let mut out = Vec::with_capacity(wanted.min(64 << 20));
        let mut chunk = 1u32;
        while out.len() < wanted {
            let start = out.len();
            match self.chunks.get(&(object, chunk)) {
                Some(&(page, bytes)) => {
                    let at = self.base + page * self.geometry.page();
                    let data = self
                        .image
                        .get(at..at + bytes.min(per_chunk))
                        .ok_or_else(|| format!("chunk {chunk} lies past the image's end"))?;
                    out.extend_from_slice(data);
                }
                // A chunk never written reads as zeros (a hole).
                None => out.resize(start + per_chunk, 0),
            }
            if out.len() == start {
                break;
            }
            chunk += 1;
        }
        out.truncate(wanted);
        Ok(out)
    }
}

/// One object's header.
struct Object {
    kind: u32,
    parent: u32,
    name: String,
    mode: u32,
    owner: (u32, u32),
    size: u64,
    equivalent: u32,
    alias: String,
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn object(geometry: Geometry, page: &[u8]) -> Object {
    let word = |at: usize| geometry.word(page, at).unwrap_or(0);
    let high = word(496);
    Object {
        kind: word(0),
        parent: word(4),
        name: c_string(&page[NAME..NAME + NAME_LENGTH]),
        mode: word(268),
        owner: (word(272), word(276)),
        size: u64::from(word(292))
            | if high == u32::MAX {
                0
            } else {
                u64::from(high) << 32
            },
        equivalent: word(296),
        alias: c_string(&page[ALIAS..ALIAS + ALIAS_LENGTH]),
    }
}

/// Mounts the YAFFS2 volume starting at `offset`; returns the bytes its pages span.
pub(crate) fn mount_yaffs2(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let image = &data[offset..];
    let geometry = geometry(image).ok_or(Refused::NotThisFormat)?;
    let pages = image.len() / geometry.page();
    // The newest header and data chunks of each object.
    let mut headers: HashMap<u32, (u32, usize)> = HashMap::new();
    let mut chunks: HashMap<(u32, u32), (u32, usize, usize)> = HashMap::new();
    let mut last = 0;
    for page in 0..pages {
        let Some(tags) = geometry.tags(image, page) else {
            continue;
        };
        if tags.chunk == 0 {
            if header_type(geometry, image, page).is_none() {
                continue;
            }
            let newest = headers
                .get(&tags.object)
                .is_none_or(|&(sequence, _)| tags.sequence >= sequence);
            if newest {
                headers.insert(tags.object, (tags.sequence, page));
            }
        } else {
            let newest = chunks
                .get(&(tags.object, tags.chunk))
                .is_none_or(|&(sequence, ..)| tags.sequence >= sequence);
            if newest {
                chunks.insert(
                    (tags.object, tags.chunk),
                    (tags.sequence, page, tags.bytes as usize),
                );
            }
        }
        last = page + 1;
    }
    let objects: HashMap<u32, Object> = headers
        .iter()
        .map(|(&id, &(_, page))| {
            let at = page * geometry.page();
            (id, object(geometry, &image[at..at + geometry.chunk]))
        })
        .collect();
    let most_depth = sandbox.limits().max_path_depth;
    let path_of = |mut id: u32| -> Option<String> {
        let mut names = Vec::new();
        while id != ROOT {
            let object = objects.get(&id)?;
            if matches!(object.parent, UNLINKED | DELETED) || names.len() > most_depth {
                return None;
            }
            names.push(object.name.as_str());
            id = object.parent;
        }
        names.reverse();
        Some(format!("/{}", names.join("/")))
    };
    let mut volume = Volume {
        image: data.clone(),
        base: offset,
        geometry,
        chunks: chunks
            .into_iter()
            .map(|(key, (_, page, bytes))| (key, (page, bytes)))
            .collect(),
        files: Vec::new(),
    };
    let mut ids: Vec<&u32> = objects.keys().collect();
    ids.sort();
    let mut listed: Vec<Listed> = Vec::new();
    for &id in ids {
        let object = &objects[&id];
        if id == ROOT || object.name.is_empty() {
            continue;
        }
        let Some(path) = path_of(id) else {
            continue;
        };
        let mode = object.mode;
        let entry = match object.kind {
            1 => {
                volume.files.push((id, object.size));
                (NodeKind::File, object.size, Some(volume.files.len() - 1))
            }
            2 => (NodeKind::Symlink(object.alias.clone()), 0, None),
            3 => (NodeKind::Directory, 0, None),
            // A hard link reads as the file it names.
            4 => match objects.get(&object.equivalent) {
                Some(target) if target.kind == 1 => {
                    volume.files.push((object.equivalent, target.size));
                    (NodeKind::File, target.size, Some(volume.files.len() - 1))
                }
                _ => continue,
            },
            _ => (NodeKind::Special, 0, None),
        };
        listed.push((path, entry.0, mode, object.owner, entry.1, entry.2));
    }
    if listed.is_empty() {
        return Err(Refused::NotThisFormat);
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(volume), listed)?;
    Ok(Some(last * geometry.page()))
}
