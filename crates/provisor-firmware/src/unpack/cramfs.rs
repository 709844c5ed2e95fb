//! cramfs, the compressed ROM filesystem of older embedded Linux (either byte order): a
//! 64-byte superblock with the root inode after it, 12-byte inodes packing mode, owner,
//! size, name length and data offset into bit fields, directories as runs of inodes,
//! and file data as 4 KiB zlib blocks behind a table of block end pointers (holes and
//! the newer direct and uncompressed block pointers included). A filesystem written
//! with 512 bytes of boot padding has its superblock at 512 and is read the same way.
//!
//! Files are listed eagerly and decoded when read; directories already visited are not
//! walked again, so a looping image ends.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Listed, Refused, codec, kind_of, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

const MAGIC: u32 = 0x28cd_3d45;
const SIGNATURE: &[u8; 16] = b"Compressed ROMFS";
const SUPERBLOCK: usize = 64;
const INODE: usize = 12;
const BLOCK: usize = 4096;
const FLAG_EXT_BLOCK_POINTERS: u32 = 0x800;
const KNOWN_FLAGS: u32 = 0x1 | 0x2 | 0x100 | 0x200 | 0x400 | FLAG_EXT_BLOCK_POINTERS;

#[derive(Clone, Copy)]
struct Layout {
    little: bool,
}

impl Layout {
    fn word(self, data: &[u8], at: usize) -> Option<u32> {
        let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(bytes)
        } else {
            u32::from_be_bytes(bytes)
        })
    }

    /// The fields of the inode at `at`: mode, uid, size, gid, name length, data offset.
    fn inode(self, data: &[u8], at: usize) -> Option<Inode> {
        let (first, second, third) = (
            self.word(data, at)?,
            self.word(data, at + 4)?,
            self.word(data, at + 8)?,
        );
        Some(if self.little {
            Inode {
                mode: first & 0xffff,
                uid: first >> 16,
                size: (second & 0xff_ffff) as usize,
                gid: second >> 24,
                name_length: ((third & 0x3f) * 4) as usize,
                offset: ((third >> 6) * 4) as usize,
            }
        } else {
            Inode {
                mode: first >> 16,
                uid: first & 0xffff,
                size: (second >> 8) as usize,
                gid: second & 0xff,
                name_length: ((third >> 26) * 4) as usize,
                offset: ((third & 0x3ff_ffff) * 4) as usize,
            }
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Inode {
    mode: u32,
    uid: u32,
    size: usize,
    gid: u32,
    name_length: usize,
    offset: usize,
}

fn layout_of(data: &[u8]) -> Option<Layout> {
    let magic: [u8; 4] = data.get(..4)?.try_into().ok()?;
    if u32::from_le_bytes(magic) == MAGIC {
        Some(Layout { little: true })
    } else if u32::from_be_bytes(magic) == MAGIC {
        Some(Layout { little: false })
    } else {
        None
    }
}

/// The magic in either byte order and the signature string.
pub(crate) fn plausible(data: &[u8]) -> bool {
    layout_of(data).is_some() && data.get(16..32) == Some(SIGNATURE)
}

/// A mounted cramfs: the image and, per file, its inode.
struct Cramfs {
    image: Arc<[u8]>,
    base: usize,
    layout: Layout,
    extended_pointers: bool,
    files: Vec<Inode>,
}

impl Cramfs {
    fn at(&self, offset: usize) -> usize {
        self.base + offset
    }

    fn decode(&self, inode: &Inode, limit: u64) -> Result<Vec<u8>, String> {
        if inode.size as u64 > limit {
            return Err(format!("{} bytes, more than {limit}", inode.size));
        }
        let blocks = inode.size.div_ceil(BLOCK);
        let table = self.at(inode.offset);
        let mut out = Vec::with_capacity(inode.size);
        let mut start = table + 4 * blocks;
        for index in 0..blocks {
            let wanted = BLOCK.min(inode.size - out.len());
            let pointer = self
                .layout
                .word(&self.image, table + 4 * index)
                .ok_or("the block table runs past the image")?;
            if self.extended_pointers && pointer & (1 << 30) != 0 {
                // A direct pointer: the block sits at (pointer << 2), uncompressed or
                // with a 2-byte length before it.
                let at = self.at(((pointer & 0x3fff_ffff) << 2) as usize);
                if pointer & (1 << 31) != 0 {
                    let block = self
                        .image
                        .get(at..at + wanted)
                        .ok_or("a block runs past the image")?;
                    out.extend_from_slice(block);
                } else {
                    let length = self
                        .image
                        .get(at..at + 2)
                        .map(|bytes| {
                            usize::from(if self.layout.little {
                                u16::from_le_bytes([bytes[0], bytes[1]])
                            } else {
                                u16::from_be_bytes([bytes[0], bytes[1]])
                            })
                        })
                        .ok_or("a block runs past the image")?;
                    let block = self
                        .image
                        .get(at + 2..at + 2 + length)
                        .ok_or("a block runs past the image")?;
                    out.extend_from_slice(&codec::zlib(block, wanted)?);
                }
                continue;
            }
            let uncompressed = self.extended_pointers && pointer & (1 << 31) != 0;
            let end = self.at((pointer & 0x3fff_ffff) as usize);
            if end < start {
                return Err(format!("block {index} ends before it starts"));
            }
            let block = self
                .image
                .get(start..end)
                .ok_or("a block runs past the image")?;
            if block.is_empty() {
                // A hole.
                out.resize(out.len() + wanted, 0);
            } else if uncompressed {
                out.extend_from_slice(&block[..wanted.min(block.len())]);
            } else {
                out.extend_from_slice(&codec::zlib(block, wanted)?);
            }
            start = end;
        }
        out.truncate(inode.size);
        Ok(out)
    }
}

impl FileSource for Cramfs {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let inode = self.files.get(id).ok_or("no such file")?;
        self.decode(inode, limit)
    }
}

/// Mounts the cramfs whose superblock is at `offset`; returns the bytes it spans.
pub(crate) fn mount_cramfs(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let superblock = &data[offset..];
    let layout = layout_of(superblock).ok_or(Refused::NotThisFormat)?;
    let word = |at: usize| layout.word(superblock, at).unwrap_or(0);
    let (size, flags) = (word(4) as usize, word(8));
    if flags & !KNOWN_FLAGS != 0 {
        return Err(Refused::Broken(format!(
            "cramfs uses features provisor does not know (flags {flags:#x})"
        )));
    }
    let root = layout
        .inode(superblock, SUPERBLOCK)
        .ok_or_else(|| Refused::Broken("cramfs: the root inode is cut off".into()))?;
    // Offsets count from the start of the filesystem, which lies 512 bytes before the
    // superblock when the image was written with boot padding.
    let base = if root.offset == 512 + SUPERBLOCK + INODE && offset >= 512 {
        offset - 512
    } else {
        offset
    };
    let span = size.checked_sub(offset - base).filter(|&span| span > 0);
    let mut filesystem = Cramfs {
        image: data.clone(),
        base,
        layout,
        extended_pointers: flags & FLAG_EXT_BLOCK_POINTERS != 0,
        files: Vec::new(),
    };
    let mut entries: Vec<(String, Inode, NodeKind)> = Vec::new();
    let mut visited = HashSet::new();
    let mut pending = vec![(String::new(), root)];
    let corrupt = |what: String| Refused::Broken(format!("cramfs is corrupt: {what}"));
    while let Some((directory, inode)) = pending.pop() {
        if !visited.insert(inode.offset) {
            continue;
        }
        let mut at = filesystem.at(inode.offset);
        let end = at + inode.size;
        while at < end {
            let child = layout
                .inode(data, at)
                .ok_or_else(|| corrupt(format!("an inode at {at:#x} is cut off")))?;
            let name_at = at + INODE;
            let raw = data
                .get(name_at..name_at + child.name_length)
                .ok_or_else(|| corrupt(format!("a name at {name_at:#x} is cut off")))?;
            let name_end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            let name = String::from_utf8_lossy(&raw[..name_end]).into_owned();
            at = name_at + child.name_length;
            if name.is_empty() {
                return Err(corrupt(format!("an entry at {name_at:#x} has no name")));
            }
            let path = format!("{directory}/{name}");
            let kind = match kind_of(child.mode) {
                NodeKind::Directory => {
                    if child.size > 0 {
                        pending.push((path.clone(), child));
                    }
                    NodeKind::Directory
                }
                NodeKind::File => NodeKind::File,
                NodeKind::Symlink(_) => {
                    let target = filesystem
                        .decode(&child, 4096)
                        .map_err(|reason| corrupt(format!("the link {path}: {reason}")))?;
                    NodeKind::Symlink(String::from_utf8_lossy(&target).into_owned())
                }
                _ => NodeKind::Special,
            };
            entries.push((path, child, kind));
        }
    }
    let mut listed: Vec<Listed> = Vec::new();
    for (path, inode, kind) in entries {
        let file = (kind == NodeKind::File).then(|| {
            filesystem.files.push(inode);
            filesystem.files.len() - 1
        });
        let owner = (inode.uid, inode.gid);
        listed.push((path, kind, inode.mode, owner, inode.size as u64, file));
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(filesystem), listed)?;
    Ok(span)
}
