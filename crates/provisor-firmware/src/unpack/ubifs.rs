//! UBIFS, the filesystem on UBI volumes, read from a volume's contiguous bytes (logical
//! erase blocks one after another, as a UBI volume reassembles or `mkfs.ubifs` writes).
//! Every node starts with a little-endian common header (magic, CRC, sequence number,
//! length, type). The superblock gives the erase-block size; the newest master node
//! gives the root of the index, a B+ tree whose leaves are the inode, directory-entry
//! and data nodes of the committed filesystem. Data nodes hold 4 KiB blocks, stored
//! plain or compressed with lzo, deflate or zstd.
//!
//! The index is walked with a visited set and a depth bound, so a looping or
//! self-referencing tree ends; file contents are decoded when read.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::{Listed, Refused, codec, kind_of, le16, le32, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

const MAGIC: [u8; 4] = [0x31, 0x18, 0x10, 0x06];
const COMMON: usize = 24;
const INODE_NODE: u8 = 0;
const DATA_NODE: u8 = 1;
const DENTRY_NODE: u8 = 2;
const SUPERBLOCK_NODE: u8 = 6;
const MASTER_NODE: u8 = 7;
const INDEX_NODE: u8 = 9;
const BLOCK: usize = 4096;
const ROOT: u64 = 1;
const MAX_LEVELS: usize = 64;

fn le64(data: &[u8], at: usize) -> u64 {
    (u64::from(le32(data, at + 4)) << 32) | u64::from(le32(data, at))
}

/// UBIFS's CRC: CRC-32 without the final inversion, over the node after the CRC field.
fn ubifs_crc(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

/// The valid node at `at`: its bytes, type and sequence number.
fn node_at(volume: &[u8], at: usize) -> Option<(&[u8], u8, u64)> {
    let header = volume.get(at..at.checked_add(COMMON)?)?;
    if header[..4] != MAGIC {
        return None;
    }
    let length = le32(header, 16) as usize;
    let node = volume.get(at..at.checked_add(length)?)?;
    (length >= COMMON && ubifs_crc(&node[8..]) == le32(node, 4))
        .then(|| (node, node[20], le64(node, 8)))
}

/// A superblock node with a matching CRC.
pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= COMMON
        && data[20] == SUPERBLOCK_NODE
        && node_at(data, 0).is_some_and(|(node, ..)| node.len() >= 88)
}

struct Ubifs {
    image: Arc<[u8]>,
    /// Per file: its size and its data nodes (block number, position).
    files: Vec<(u64, Vec<(u32, usize)>)>,
}

impl Ubifs {
    fn decode(&self, size: u64, blocks: &[(u32, usize)], limit: u64) -> Result<Vec<u8>, String> {
        if size > limit {
            return Err(format!("{size} bytes, more than {limit}"));
        }
        let size = size as usize;
        let mut out = vec![0u8; size];
        for &(number, at) in blocks {
            let (node, ..) =
                node_at(&self.image, at).ok_or("a data node is corrupt (CRC mismatch)")?;
            if node.len() < 48 {
                return Err("a data node is cut off".into());
            }
            let length = le32(node, 40) as usize;
            if length > BLOCK {
                return Err(format!("a data block declares {length} bytes"));
            }
            let input = &node[48..];
            let block = match le16(node, 44) {
                0 => input.get(..length).map(<[u8]>::to_vec).ok_or_else(|| {
                    "an uncompressed data node is shorter than it declares".to_owned()
                })?,
                1 => codec::lzo1x(input, length)?,
                2 => codec::deflate(input, length)?,
                3 => codec::zstd(input, length)?,
                other => return Err(format!("compression {other} is not supported")),
            };
            let start = number as usize * BLOCK;
            if start < size {
                let end = (start + block.len()).min(size);
                out[start..end].copy_from_slice(&block[..end - start]);
            }
        }
        Ok(out)
    }
}

impl FileSource for Ubifs {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let (size, blocks) = self.files.get(id).ok_or("no such file")?;
        self.decode(*size, blocks, limit)
    }
}

/// What the index leads to.
#[derive(Default)]
struct Leaves {
    inodes: BTreeMap<u64, usize>,
    entries: BTreeMap<u64, Vec<(String, u64)>>,
    data: BTreeMap<u64, Vec<(u32, usize)>>,
}

fn walk_index(volume: &[u8], leb_size: usize, root: usize) -> Result<Leaves, String> {
    let mut leaves = Leaves::default();
    let mut visited = HashSet::new();
    let mut pending = vec![(root, 0usize)];
    while let Some((at, depth)) = pending.pop() {
        if depth > MAX_LEVELS || !visited.insert(at) {
            continue;
        }
        let (node, kind, _) = node_at(volume, at)
            .ok_or_else(|| format!("the index points at {at:#x}, where no valid node is"))?;
        match kind {
            INDEX_NODE => {
                let children = usize::from(le16(node, 24));
                // A branch: erase block, offset, length and an 8-byte key.
                for branch in node[28..].chunks_exact(20).take(children) {
                    let position = (le32(branch, 0) as usize)
                        .checked_mul(leb_size)
                        .and_then(|base| base.checked_add(le32(branch, 4) as usize))
                        .ok_or("an index branch points past the volume")?;
                    pending.push((position, depth + 1));
                }
            }
            INODE_NODE if node.len() >= 160 => {
                leaves.inodes.insert(le64(node, 24) & 0xffff_ffff, at);
            }
            DENTRY_NODE if node.len() >= 56 => {
                let parent = u64::from(le32(node, 24));
                let length = usize::from(le16(node, 50));
                let name = node
                    .get(56..56 + length)
                    .ok_or("a directory entry's name is cut off")?;
                leaves
                    .entries
                    .entry(parent)
                    .or_default()
                    .push((String::from_utf8_lossy(name).into_owned(), le64(node, 40)));
            }
            DATA_NODE if node.len() >= 48 => {
                let inode = u64::from(le32(node, 24));
                let block = le32(node, 28) & 0x1fff_ffff;
                leaves.data.entry(inode).or_default().push((block, at));
            }
            _ => {}
        }
    }
    Ok(leaves)
}

/// Mounts the UBIFS whose superblock is at `offset`; returns the bytes it spans.
pub(crate) fn mount_ubifs(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let corrupt = |what: String| Refused::Broken(format!("UBIFS is corrupt: {what}"));
    let volume = &data[offset..];
    let (superblock, ..) = node_at(volume, 0).ok_or(Refused::NotThisFormat)?;
    let leb_size = le32(superblock, 36) as usize;
    let leb_count = le32(superblock, 40) as usize;
    if !(4096..=1 << 22).contains(&leb_size) {
        return Err(corrupt(format!("an erase block of {leb_size} bytes")));
    }
    // The master node is in erase blocks 1 and 2, written again at every commit; the
    // newest valid copy wins.
    let mut master: Option<(&[u8], u64)> = None;
    for block in 1..=2 {
        let mut at = block * leb_size;
        while at < (block + 1) * leb_size {
            let Some((node, kind, sequence)) = node_at(volume, at) else {
                break;
            };
            if kind == MASTER_NODE && master.is_none_or(|(_, newest)| sequence > newest) {
                master = Some((node, sequence));
            }
            at += (node.len() + 7) & !7;
        }
    }
    let (master, _) = master.ok_or_else(|| corrupt("no valid master node".into()))?;
    let root = (le32(master, 48) as usize)
        .checked_mul(leb_size)
        .and_then(|base| base.checked_add(le32(master, 52) as usize))
        .ok_or_else(|| corrupt("the index root lies past the volume".into()))?;
    let leaves = walk_index(volume, leb_size, root).map_err(corrupt)?;

    let mut filesystem = Ubifs {
        image: data.clone(),
        files: Vec::new(),
    };
    let mut listed: Vec<Listed> = Vec::new();
    let mut visited = HashSet::from([ROOT]);
    let mut pending = vec![(String::new(), ROOT)];
    while let Some((directory, number)) = pending.pop() {
        let Some(children) = leaves.entries.get(&number) else {
            continue;
        };
        for (name, child) in children {
            let path = format!("{directory}/{name}");
            let at = *leaves
                .inodes
                .get(child)
                .ok_or_else(|| corrupt(format!("{path} names inode {child}, which has no node")))?;
            let (node, ..) =
                node_at(volume, at).ok_or_else(|| corrupt(format!("{path}'s inode")))?;
            let (size, uid, gid, mode) = (
                le64(node, 48),
                le32(node, 96),
                le32(node, 100),
                le32(node, 104),
            );
            let kind = match kind_of(mode) {
                NodeKind::Directory => {
                    if visited.insert(*child) {
                        pending.push((path.clone(), *child));
                    }
                    NodeKind::Directory
                }
                NodeKind::File => NodeKind::File,
                NodeKind::Symlink(_) => {
                    let length = le32(node, 112) as usize;
                    let target = node
                        .get(160..160 + length)
                        .ok_or_else(|| corrupt(format!("the link {path} is cut off")))?;
                    NodeKind::Symlink(String::from_utf8_lossy(target).into_owned())
                }
                _ => NodeKind::Special,
            };
            let id = if kind == NodeKind::File {
                let blocks = leaves
                    .data
                    .get(child)
                    .map(|blocks| {
                        blocks
                            .iter()
                            .map(|&(block, position)| (block, offset + position))
                            .collect()
                    })
                    .unwrap_or_default();
                filesystem.files.push((size, blocks));
                Some(filesystem.files.len() - 1)
            } else {
                None
            };
            listed.push((path, kind, mode, (uid, gid), size, id));
        }
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(filesystem), listed)?;
    Ok(leb_count.checked_mul(leb_size))
}
