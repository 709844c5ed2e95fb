//! JFFS2, the log-structured flash filesystem (either byte order): a sequence of nodes,
//! each with a magic, a type, a length and a header CRC. Directory entries name an inode
//! in a parent; inode nodes carry metadata and a compressed range of the file's data
//! (none, zero, rtime, zlib, lzo or lzma). The newest version of each entry and of each
//! data range wins; an entry pointing at inode 0 is a deletion.
//!
//! The whole log is scanned once, bounded by the blob, to list the tree; file contents
//! are decoded when read. Padding (erased 0xff or zeroed flash) and obsolete nodes are
//! stepped over; the filesystem ends at the first word that is neither.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Listed, Refused, codec, kind_of, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

const ACCURATE: u16 = 0x2000;
const DIRENT: u16 = 0xe001;
const INODE: u16 = 0xe002;
const HEADER: usize = 12;
const INODE_HEADER: usize = 68;
const DIRENT_HEADER: usize = 40;
const ROOT: u32 = 1;

/// The CRC JFFS2 uses: CRC-32 without the initial and final inversion.
fn jffs2_crc(data: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(!0);
    hasher.update(data);
    !hasher.finalize()
}

#[derive(Clone, Copy)]
struct Order {
    little: bool,
}

impl Order {
    fn u16(self, data: &[u8], at: usize) -> u16 {
        let bytes = [data[at], data[at + 1]];
        if self.little {
            u16::from_le_bytes(bytes)
        } else {
            u16::from_be_bytes(bytes)
        }
    }

    fn u32(self, data: &[u8], at: usize) -> u32 {
        let bytes = [data[at], data[at + 1], data[at + 2], data[at + 3]];
        if self.little {
            u32::from_le_bytes(bytes)
        } else {
            u32::from_be_bytes(bytes)
        }
    }
}

fn order_of(data: &[u8]) -> Option<Order> {
    match data.get(..2)? {
        [0x85, 0x19] => Some(Order { little: true }),
        [0x19, 0x85] => Some(Order { little: false }),
        _ => None,
    }
}

/// A node header whose CRC matches.
pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= HEADER
        && order_of(data).is_some_and(|order| order.u32(data, 8) == jffs2_crc(&data[..8]))
}

/// One range of a file's data.
#[derive(Debug, Clone, Copy)]
struct DataNode {
    version: u32,
    at: usize,
    compressed: usize,
    size: usize,
    offset: usize,
    compression: u8,
}

/// An inode's newest metadata and every data range.
#[derive(Debug, Default)]
struct Inode {
    version: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    size: usize,
    data: Vec<DataNode>,
}

struct Jffs2 {
    image: Arc<[u8]>,
    files: Vec<(usize, Vec<DataNode>)>,
}

impl Jffs2 {
    fn decode(&self, size: usize, nodes: &[DataNode], limit: u64) -> Result<Vec<u8>, String> {
        if size as u64 > limit {
            return Err(format!("{size} bytes, more than {limit}"));
        }
        let mut out = vec![0u8; size];
        for node in nodes {
            let input = self
                .image
                .get(node.at..node.at + node.compressed)
                .ok_or("a data node runs past the image")?;
            let block = match node.compression {
                0 | 4 => input.get(..node.size).map(<[u8]>::to_vec).ok_or_else(|| {
                    "an uncompressed data node is shorter than it declares".to_owned()
                })?,
                1 => vec![0; node.size],
                2 => codec::rtime(input, node.size)?,
                6 => codec::zlib(input, node.size)?,
                7 => codec::lzo1x(input, node.size)?,
                // OpenWrt's lzma: lc 0, lp 0, pb 0, an 8 KiB dictionary.
                8 => codec::lzma_raw(input, 0, 0x2000, node.size)?,
                other => return Err(format!("compression {other:#x} is not supported")),
            };
            // A range past the size was truncated away later; keep what fits.
            if node.offset < size {
                let end = (node.offset + block.len()).min(size);
                out[node.offset..end].copy_from_slice(&block[..end - node.offset]);
            }
        }
        Ok(out)
    }
}

impl FileSource for Jffs2 {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let (size, nodes) = self.files.get(id).ok_or("no such file")?;
        self.decode(*size, nodes, limit)
    }
}

/// Mounts the JFFS2 log starting at `offset`; returns the bytes it spans.
pub(crate) fn mount_jffs2(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let order = order_of(&data[offset..]).ok_or(Refused::NotThisFormat)?;
    let mut inodes: HashMap<u32, Inode> = HashMap::new();
    // (parent, name) -> (version, inode, type)
    let mut entries: HashMap<(u32, Vec<u8>), (u32, u32, u8)> = HashMap::new();
    let mut at = offset;
    let mut end = offset;
    while at + HEADER <= data.len() {
        let word = &data[at..at + 4];
        if word == [0xff; 4] || word == [0; 4] {
            at += 4;
            continue;
        }
        let header = &data[at..at + HEADER];
        if order_of(header).is_none() {
            break;
        }
        let kind = order.u16(header, 2);
        let length = order.u32(header, 4) as usize;
        let stored = order.u32(header, 8);
        let valid = stored == jffs2_crc(&header[..8]);
        // An obsolete node had its "accurate" bit cleared after the CRC was written.
        let obsolete = !valid && {
            let mut restored = [0u8; 8];
            restored.copy_from_slice(&header[..8]);
            let kind = (kind | ACCURATE).to_le_bytes();
            let kind = if order.little {
                kind
            } else {
                [kind[1], kind[0]]
            };
            restored[2..4].copy_from_slice(&kind);
            stored == jffs2_crc(&restored)
        };
        if !valid && !obsolete {
            break;
        }
        let node_end = at
            .checked_add(length)
            .filter(|&node_end| length >= HEADER && node_end <= data.len())
            .ok_or_else(|| {
                Refused::Broken(format!(
                    "JFFS2 node at {at:#x} declares {length} bytes, past the end of the image"
                ))
            })?;
        let node = &data[at..node_end];
        if valid && kind == INODE && node.len() >= INODE_HEADER {
            let field = |offset: usize| order.u32(node, offset);
            if field(64) == jffs2_crc(&node[..60]) {
                let compressed = field(48) as usize;
                let inode = inodes.entry(field(12)).or_default();
                let version = field(16);
                if version >= inode.version {
                    inode.version = version;
                    inode.mode = field(20);
                    inode.uid = u32::from(order.u16(node, 24));
                    inode.gid = u32::from(order.u16(node, 26));
                    inode.size = field(28) as usize;
                }
                if INODE_HEADER + compressed <= node.len() && field(52) > 0 {
                    inode.data.push(DataNode {
                        version,
                        at: at + INODE_HEADER,
                        compressed,
                        size: field(52) as usize,
                        offset: field(44) as usize,
                        compression: node[56],
                    });
                }
            }
        } else if valid && kind == DIRENT && node.len() >= DIRENT_HEADER {
            let field = |offset: usize| order.u32(node, offset);
            let name_length = usize::from(node[28]);
            if field(32) == jffs2_crc(&node[..32]) && DIRENT_HEADER + name_length <= node.len() {
                let name = node[DIRENT_HEADER..DIRENT_HEADER + name_length].to_vec();
                let key = (field(12), name);
                let version = field(16);
                if entries
                    .get(&key)
                    .is_none_or(|&(newest, ..)| version >= newest)
                {
                    entries.insert(key, (version, field(20), node[29]));
                }
            }
        }
        at = (node_end + 3) & !3;
        end = node_end;
    }
    if entries.is_empty() && inodes.is_empty() {
        return Err(Refused::NotThisFormat);
    }
    // Children of each directory, ignoring deletions.
    let mut children: HashMap<u32, Vec<(Vec<u8>, u32)>> = HashMap::new();
    for ((parent, name), (_, inode, _)) in entries {
        if inode != 0 {
            children.entry(parent).or_default().push((name, inode));
        }
    }
    for list in children.values_mut() {
        list.sort();
    }
    let mut filesystem = Jffs2 {
        image: data.clone(),
        files: Vec::new(),
    };
    let mut listed: Vec<Listed> = Vec::new();
    let mut visited = HashSet::from([ROOT]);
    let mut pending = vec![(String::new(), ROOT)];
    let corrupt = |what: String| Refused::Broken(format!("JFFS2 is corrupt: {what}"));
    while let Some((directory, number)) = pending.pop() {
        for (name, child) in children.get(&number).map_or(&[][..], Vec::as_slice) {
            let name = String::from_utf8_lossy(name);
            let path = format!("{directory}/{name}");
            let Some(inode) = inodes.get_mut(child) else {
                return Err(corrupt(format!(
                    "{path} names inode {child}, which has no node"
                )));
            };
            let kind = match kind_of(inode.mode) {
                NodeKind::Directory => {
                    if visited.insert(*child) {
                        pending.push((path.clone(), *child));
                    }
                    NodeKind::Directory
                }
                NodeKind::File => NodeKind::File,
                NodeKind::Symlink(_) => {
                    let mut data = std::mem::take(&mut inode.data);
                    data.sort_by_key(|node| node.version);
                    let target = filesystem
                        .decode(inode.size, &data, 4096)
                        .map_err(|reason| corrupt(format!("the link {path}: {reason}")))?;
                    inode.data = data;
                    NodeKind::Symlink(String::from_utf8_lossy(&target).into_owned())
                }
                _ => NodeKind::Special,
            };
            let id = if kind == NodeKind::File {
                let mut data = inode.data.clone();
                data.sort_by_key(|node| node.version);
                filesystem.files.push((inode.size, data));
                Some(filesystem.files.len() - 1)
            } else {
                None
            };
            listed.push((
                path,
                kind,
                inode.mode,
                (inode.uid, inode.gid),
                inode.size as u64,
                id,
            ));
        }
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(filesystem), listed)?;
    Ok(Some(end - offset))
}
