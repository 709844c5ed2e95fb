//! ext2, ext3 and ext4, read by provisor itself: every layout embedded build systems
//! write. Revision 0 (fixed 128-byte inodes, directory entries without a type byte) and
//! revision 1; 1 to 64 KiB blocks; block maps (direct, single, double and triple
//! indirect) and extent trees; 32- and 64-byte group descriptors, `meta_bg`; htree
//! directories (read linearly, as their index blocks are valid empty entries); inline
//! data (small files and directories kept in the inode and its `system.data` attribute);
//! fast and slow symbolic links; holes and uninitialized extents read as zeros. The
//! journal is not replayed: a firmware image is written clean, and one that still needs
//! recovery is read as it stands. Checksums are not verified, so that an image a build
//! tool wrote with a zero UUID (genext2fs) or stale checksums still opens.
//!
//! Everything is bounded by the image: a block number past the filesystem, an extent
//! tree deeper than ext4 allows, a directory that lists itself, a size past the reader's
//! limit end the reading of that file or directory with an error, never a panic or a
//! loop.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Listed, Refused, kind_of, le16, le32, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

/// Where the magic lies, counted from the start of the filesystem.
pub(crate) const MAGIC_OFFSET: usize = 0x438;
const SUPERBLOCK: usize = 0x400;
const ROOT_INODE: u32 = 2;

// Incompatible features (the superblock's s_feature_incompat).
const INCOMPAT_COMPRESSION: u32 = 0x1;
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
const INCOMPAT_META_BG: u32 = 0x10;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_ENCRYPT: u32 = 0x10000;
const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;

// Inode flags.
const FLAG_EXTENTS: u32 = 0x8_0000;
const FLAG_INLINE_DATA: u32 = 0x1000_0000;

const EXTENT_MAGIC: u16 = 0xf30a;
/// ext4 keeps extent trees at most 5 levels deep.
const EXTENT_MAX_DEPTH: u16 = 5;
/// A directory larger than this is not one an embedded system writes.
const MAX_DIRECTORY_BYTES: u64 = 64 << 20;

/// The superblock's fields are those of a real filesystem (the magic `53 ef` alone is too
/// common to trust).
pub(crate) fn plausible(data: &[u8]) -> bool {
    let field32 = |at: usize| le32(data, SUPERBLOCK + at);
    let field16 = |at: usize| le16(data, SUPERBLOCK + at);
    data.len() >= SUPERBLOCK + 1024
        && field16(0x38) == 0xef53
        && field32(0x00) > 0 // inodes
        && field32(0x04) > 0 // blocks
        && field32(0x18) <= 6 // log2(block size) - 10
        && field32(0x4c) <= 1 // revision
        && (1..=7).contains(&field16(0x3a)) // state
        && field16(0x3c) <= 3 // behaviour on errors (genext2fs leaves it 0)
        && field32(0x20) > 0 // blocks per group
        && field32(0x28) > 0 // inodes per group
}

/// The superblock, as far as reading needs it.
#[derive(Debug, Clone)]
struct Superblock {
    block_size: u64,
    blocks: u64,
    inodes: u32,
    first_data_block: u64,
    blocks_per_group: u64,
    inodes_per_group: u32,
    inode_size: u64,
    descriptor_size: u64,
    incompat: u32,
    ro_compat: u32,
    first_meta_group: u64,
}

impl Superblock {
    fn parse(data: &[u8]) -> Result<Superblock, String> {
        let field32 = |at: usize| le32(data, SUPERBLOCK + at);
        let field16 = |at: usize| le16(data, SUPERBLOCK + at);
        let revision = field32(0x4c);
        let incompat = if revision >= 1 { field32(0x60) } else { 0 };
        let block_size = 1024u64 << field32(0x18).min(6);
        let mut blocks = u64::from(field32(0x04));
        let mut descriptor_size = 32;
        if incompat & INCOMPAT_64BIT != 0 {
            blocks |= u64::from(field32(0x150)) << 32;
            descriptor_size = u64::from(field16(0xfe)).max(32);
        }
        let inode_size = if revision >= 1 {
            u64::from(field16(0x58))
        } else {
            128
        };
        if !(128..=block_size).contains(&inode_size) || !inode_size.is_power_of_two() {
            return Err(format!("the inode size {inode_size} is impossible"));
        }
        if descriptor_size > 1024 || !descriptor_size.is_power_of_two() {
            return Err(format!(
                "the group descriptor size {descriptor_size} is impossible"
            ));
        }
        for (bit, what) in [
            (INCOMPAT_COMPRESSION, "compression"),
            (
                INCOMPAT_JOURNAL_DEV,
                "is an external journal, not a filesystem",
            ),
            (INCOMPAT_ENCRYPT, "encryption"),
        ] {
            if incompat & bit != 0 {
                return Err(format!(
                    "the filesystem uses {what}, which provisor cannot read"
                ));
            }
        }
        Ok(Superblock {
            block_size,
            blocks,
            inodes: field32(0x00),
            first_data_block: u64::from(field32(0x14)),
            blocks_per_group: u64::from(field32(0x20)),
            inodes_per_group: field32(0x28),
            inode_size,
            descriptor_size,
            incompat,
            ro_compat: if revision >= 1 { field32(0x64) } else { 0 },
            first_meta_group: u64::from(field32(0x104)),
        })
    }

    fn descriptors_per_block(&self) -> u64 {
        self.block_size / self.descriptor_size
    }

    /// Whether a group keeps a backup of the superblock and descriptors (all of them, or
    /// with sparse_super only 0, 1 and the powers of 3, 5 and 7).
    fn has_backup(&self, group: u64) -> bool {
        if self.ro_compat & RO_COMPAT_SPARSE_SUPER == 0 || group <= 1 {
            return true;
        }
        [3u64, 5, 7].iter().any(|&base| {
            let mut power = base;
            while power < group {
                power = power.saturating_mul(base);
            }
            power == group
        })
    }

    /// The block holding the descriptor of `group`.
    fn descriptor_block(&self, group: u64) -> u64 {
        let per_block = self.descriptors_per_block();
        let meta_group = group / per_block;
        if self.incompat & INCOMPAT_META_BG != 0 && meta_group >= self.first_meta_group {
            // meta_bg: each run of groups keeps its descriptors in its own first group.
            let first = meta_group * per_block;
            self.first_data_block
                + first * self.blocks_per_group
                + u64::from(self.has_backup(first))
        } else {
            self.first_data_block + 1 + meta_group
        }
    }
}

/// The fields of an inode provisor reads.
#[derive(Debug, Clone)]
struct Inode {
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    flags: u32,
    sectors: u64,
    xattr_block: u64,
    /// i_block: the block map, the extent tree's root, a fast link's target or inline data.
    block: [u8; 60],
    /// The attributes kept in the inode after its fixed part (for inline data).
    inline_attributes: Vec<u8>,
}

/// One mounted ext filesystem; `files` are the inodes of its regular files.
struct ExtFs {
    image: Arc<[u8]>,
    start: usize,
    end: usize,
    superblock: Superblock,
    files: Vec<u32>,
}

impl ExtFs {
    /// The bytes at `at` (from the start of the filesystem), all inside it.
    fn bytes(&self, at: u64, length: u64) -> Result<&[u8], String> {
        let from = usize::try_from(at)
            .ok()
            .and_then(|at| self.start.checked_add(at));
        let to = from.and_then(|from| from.checked_add(usize::try_from(length).ok()?));
        match (from, to) {
            (Some(from), Some(to)) if to <= self.end => Ok(&self.image[from..to]),
            _ => Err(format!(
                "{length} bytes at {at:#x} lie past the end of the filesystem"
            )),
        }
    }

    fn block(&self, number: u64) -> Result<&[u8], String> {
        if number >= self.superblock.blocks {
            return Err(format!(
                "block {number} lies past the filesystem's {} blocks",
                self.superblock.blocks
            ));
        }
        let size = self.superblock.block_size;
        self.bytes(number * size, size)
    }

    fn inode(&self, number: u32) -> Result<Inode, String> {
        let sb = &self.superblock;
        if number == 0 || number > sb.inodes {
            return Err(format!("inode {number} does not exist"));
        }
        let group = u64::from((number - 1) / sb.inodes_per_group);
        let index = u64::from((number - 1) % sb.inodes_per_group);
        let per_block = sb.descriptors_per_block();
        let descriptor = self.block(sb.descriptor_block(group))?;
        let at = usize::try_from((group % per_block) * sb.descriptor_size).unwrap_or(usize::MAX);
        let mut table = u64::from(le32(descriptor, at + 0x8));
        if sb.descriptor_size >= 64 {
            table |= u64::from(le32(descriptor, at + 0x28)) << 32;
        }
        let raw = self.bytes(
            table
                .checked_mul(sb.block_size)
                .and_then(|base| base.checked_add(index * sb.inode_size))
                .ok_or_else(|| format!("inode {number}'s table lies past the filesystem"))?,
            sb.inode_size,
        )?;
        let mode = u32::from(le16(raw, 0x00));
        let mut size = u64::from(le32(raw, 0x04));
        // i_size_high: a regular file's; older systems kept a directory's ACL there.
        if mode & 0o170000 == 0o100000 {
            size |= u64::from(le32(raw, 0x6c)) << 32;
        }
        let mut block = [0u8; 60];
        block.copy_from_slice(&raw[0x28..0x28 + 60]);
        let extra = if sb.inode_size > 128 {
            usize::from(le16(raw, 0x80))
        } else {
            0
        };
        let attributes_at = 128 + extra;
        let inline_attributes = if sb.inode_size > 128
            && attributes_at + 4 <= raw.len()
            && le32(raw, attributes_at) == 0xea02_0000
        {
            raw[attributes_at + 4..].to_vec()
        } else {
            Vec::new()
        };
        Ok(Inode {
            mode,
            uid: u32::from(le16(raw, 0x02)) | u32::from(le16(raw, 0x78)) << 16,
            gid: u32::from(le16(raw, 0x18)) | u32::from(le16(raw, 0x7a)) << 16,
            size,
            flags: le32(raw, 0x20),
            sectors: u64::from(le32(raw, 0x1c)) | u64::from(le16(raw, 0x74)) << 32,
            xattr_block: u64::from(le32(raw, 0x68)) | u64::from(le16(raw, 0x76)) << 32,
            block,
            inline_attributes,
        })
    }

    /// Reads up to `limit` bytes of an inode's contents.
    fn read_inode(&self, inode: &Inode, limit: u64) -> Result<Vec<u8>, String> {
        let length = inode.size.min(limit);
        if inode.flags & FLAG_INLINE_DATA != 0 {
            let mut data = inode.block.to_vec();
            data.extend_from_slice(&inline_data_attribute(&inode.inline_attributes));
            data.truncate(usize::try_from(length).unwrap_or(usize::MAX));
            return Ok(data);
        }
        let block_size = self.superblock.block_size;
        let wanted = length.div_ceil(block_size);
        let mut data = vec![0u8; usize::try_from(length).map_err(|_| "too large")?];
        // Each block is placed once in a well-formed file; overlapping extents or a tree
        // that names one node many times would repeat work without end.
        let mut placements_left = wanted;
        let mut place = |logical: u64, physical: u64| -> Result<(), String> {
            placements_left = placements_left
                .checked_sub(1)
                .ok_or("the file's extents overlap")?;
            let from = logical * block_size;
            if from >= length {
                return Ok(());
            }
            let to = (from + block_size).min(length);
            let source = self.block(physical)?;
            data[from as usize..to as usize].copy_from_slice(&source[..(to - from) as usize]);
            Ok(())
        };
        if inode.flags & FLAG_EXTENTS != 0 {
            let mut nodes_left = 2 * wanted + 16;
            self.walk_extents(
                &inode.block,
                wanted,
                EXTENT_MAX_DEPTH,
                &mut nodes_left,
                &mut place,
            )?;
        } else {
            self.walk_block_map(&inode.block, wanted, &mut place)?;
        }
        Ok(data)
    }

    /// Calls `place(logical, physical)` for the mapped blocks below `wanted` of an extent
    /// tree node; uninitialized extents and gaps stay zeros.
    fn walk_extents(
        &self,
        node: &[u8],
        wanted: u64,
        depth_left: u16,
        nodes_left: &mut u64,
        place: &mut dyn FnMut(u64, u64) -> Result<(), String>,
    ) -> Result<(), String> {
        *nodes_left = nodes_left
            .checked_sub(1)
            .ok_or("the extent tree names its nodes more than once")?;
        if le16(node, 0) != EXTENT_MAGIC {
            return Err("an extent tree node has no magic".into());
        }
        let entries = usize::from(le16(node, 2));
        let depth = le16(node, 6);
        if depth > depth_left || 12 + entries * 12 > node.len() {
            return Err("an extent tree node is malformed".into());
        }
        for entry in 0..entries {
            let at = 12 + entry * 12;
            let logical = u64::from(le32(node, at));
            if logical >= wanted {
                break;
            }
            if depth == 0 {
                let raw_length = le16(node, at + 4);
                if raw_length > 32768 {
                    continue; // uninitialized: reads as zeros
                }
                let start = u64::from(le16(node, at + 6)) << 32 | u64::from(le32(node, at + 8));
                for offset in 0..u64::from(raw_length) {
                    if logical + offset >= wanted {
                        break;
                    }
                    place(logical + offset, start + offset)?;
                }
            } else {
                let child = u64::from(le16(node, at + 8)) << 32 | u64::from(le32(node, at + 4));
                let block = self.block(child)?;
                self.walk_extents(block, wanted, depth - 1, nodes_left, place)?;
            }
        }
        Ok(())
    }

    /// Calls `place(logical, physical)` for the mapped blocks below `wanted` of a block
    /// map: 12 direct pointers, then single, double and triple indirect blocks.
    fn walk_block_map(
        &self,
        root: &[u8],
        wanted: u64,
        place: &mut dyn FnMut(u64, u64) -> Result<(), String>,
    ) -> Result<(), String> {
        let per_block = self.superblock.block_size / 4;
        let mut logical = 0u64;
        for slot in 0..12 {
            if logical >= wanted {
                return Ok(());
            }
            let physical = u64::from(le32(root, slot * 4));
            if physical != 0 {
                place(logical, physical)?;
            }
            logical += 1;
        }
        for (slot, level) in [(12usize, 1u32), (13, 2), (14, 3)] {
            let span = per_block.pow(level);
            if logical >= wanted {
                return Ok(());
            }
            let pointer = u64::from(le32(root, slot * 4));
            if pointer != 0 {
                self.walk_indirect(pointer, level, logical, wanted, place)?;
            }
            logical += span;
        }
        Ok(())
    }

    fn walk_indirect(
        &self,
        pointer: u64,
        level: u32,
        first: u64,
        wanted: u64,
        place: &mut dyn FnMut(u64, u64) -> Result<(), String>,
    ) -> Result<(), String> {
        let per_block = self.superblock.block_size / 4;
        let span = per_block.pow(level - 1);
        let block = self.block(pointer)?;
        for index in 0..per_block {
            let logical = first + index * span;
            if logical >= wanted {
                break;
            }
            let physical = u64::from(le32(block, (index * 4) as usize));
            if physical == 0 {
                continue;
            }
            if level == 1 {
                place(logical, physical)?;
            } else {
                self.walk_indirect(physical, level - 1, logical, wanted, place)?;
            }
        }
        Ok(())
    }

    /// A symbolic link's target.
    fn link_target(&self, inode: &Inode) -> Result<Vec<u8>, String> {
        let attribute_sectors = if inode.xattr_block != 0 {
            self.superblock.block_size / 512
        } else {
            0
        };
        let fast = inode.flags & (FLAG_EXTENTS | FLAG_INLINE_DATA) == 0
            && inode.sectors.saturating_sub(attribute_sectors) == 0
            && inode.size <= 60;
        if fast {
            return Ok(inode.block[..inode.size as usize].to_vec());
        }
        self.read_inode(inode, 4096)
    }

    /// A directory's entries: (name, inode number).
    fn directory(&self, inode: &Inode) -> Result<Vec<(Vec<u8>, u32)>, String> {
        if inode.size > MAX_DIRECTORY_BYTES {
            return Err(format!("a directory of {} bytes", inode.size));
        }
        let mut entries = Vec::new();
        if inode.flags & FLAG_INLINE_DATA != 0 {
            // The parent's inode number, then entries in the rest of i_block and in
            // system.data.
            parse_entries(&inode.block[4..], self.typed_entries(), &mut entries);
            parse_entries(
                &inline_data_attribute(&inode.inline_attributes),
                self.typed_entries(),
                &mut entries,
            );
            return Ok(entries);
        }
        let data = self.read_inode(inode, inode.size)?;
        for block in data.chunks(self.superblock.block_size as usize) {
            parse_entries(block, self.typed_entries(), &mut entries);
        }
        Ok(entries)
    }

    fn typed_entries(&self) -> bool {
        self.superblock.incompat & INCOMPAT_FILETYPE != 0
    }
}

/// The value of the `system.data` attribute among an inode's in-inode attributes.
fn inline_data_attribute(attributes: &[u8]) -> Vec<u8> {
    let mut at = 0;
    while at + 16 <= attributes.len() {
        let name_length = usize::from(attributes[at]);
        if name_length == 0 && le32(attributes, at) == 0 {
            break;
        }
        let index = attributes[at + 1];
        let value_at = usize::from(le16(attributes, at + 2));
        let value_size = le32(attributes, at + 8) as usize;
        let name = attributes.get(at + 16..at + 16 + name_length);
        if index == 7 && name == Some(b"data") {
            return attributes
                .get(value_at..value_at.saturating_add(value_size))
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
        }
        at += (16 + name_length).next_multiple_of(4);
    }
    Vec::new()
}

/// Appends the entries of one directory block (linear; htree index blocks read as empty
/// entries). Stops at the first malformed record: the rest of that block is unreadable.
fn parse_entries(block: &[u8], typed: bool, entries: &mut Vec<(Vec<u8>, u32)>) {
    let mut at = 0;
    while at + 8 <= block.len() {
        let inode = le32(block, at);
        let record = usize::from(le16(block, at + 4));
        let name_length = if typed {
            usize::from(block[at + 6])
        } else {
            usize::from(le16(block, at + 6))
        };
        if record < 8 || at + record > block.len() || 8 + name_length > record {
            return;
        }
        let name = &block[at + 8..at + 8 + name_length];
        if inode != 0 && name != b"." && name != b".." && !name.is_empty() {
            entries.push((name.to_vec(), inode));
        }
        at += record;
    }
}

impl FileSource for ExtFs {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let number = *self.files.get(id).ok_or("no such file")?;
        let inode = self.inode(number)?;
        self.read_inode(&inode, limit.saturating_add(1))
    }
}

/// Mounts the filesystem starting at `offset`; returns the bytes it spans.
pub(crate) fn mount_ext(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let superblock = Superblock::parse(&data[offset..])
        .map_err(|reason| Refused::Broken(format!("not a readable ext filesystem: {reason}")))?;
    let span = superblock
        .blocks
        .checked_mul(superblock.block_size)
        .and_then(|span| usize::try_from(span).ok())
        .unwrap_or(usize::MAX);
    let end = offset.saturating_add(span);
    if end > data.len() {
        return Err(Refused::Broken(format!(
            "ext filesystem declares {span} bytes, only {} are present (truncated image?)",
            data.len() - offset
        )));
    }
    let mut filesystem = ExtFs {
        image: data.clone(),
        start: offset,
        end,
        superblock,
        files: Vec::new(),
    };
    let corrupt = |error: String| Refused::Broken(format!("ext filesystem is corrupt: {error}"));
    let max_files = sandbox.limits().max_files;
    let mut listed: Vec<Listed> = Vec::new();
    let mut visited = HashSet::from([ROOT_INODE]);
    let mut pending = vec![(String::new(), ROOT_INODE)];
    while let Some((directory, number)) = pending.pop() {
        let inode = filesystem.inode(number).map_err(corrupt)?;
        let entries = filesystem
            .directory(&inode)
            .map_err(|error| corrupt(format!("the directory {directory}/: {error}")))?;
        for (name, child) in entries {
            let path = format!("{directory}/{}", String::from_utf8_lossy(&name));
            let inode = filesystem
                .inode(child)
                .map_err(|error| corrupt(format!("{path}: {error}")))?;
            let kind = match kind_of(inode.mode) {
                NodeKind::Directory => {
                    // A directory linked into itself or twice is listed once.
                    if visited.insert(child) {
                        pending.push((path.clone(), child));
                    }
                    NodeKind::Directory
                }
                NodeKind::Symlink(_) => {
                    let target = filesystem
                        .link_target(&inode)
                        .map_err(|error| corrupt(format!("the link {path}: {error}")))?;
                    NodeKind::Symlink(String::from_utf8_lossy(&target).into_owned())
                }
                kind => kind,
            };
            let file = (kind == NodeKind::File).then(|| {
                filesystem.files.push(child);
                filesystem.files.len() - 1
            });
            let size = if file.is_some() { inode.size } else { 0 };
            listed.push((path, kind, inode.mode, (inode.uid, inode.gid), size, file));
            if listed.len() > max_files {
                return Err(Refused::Broken(format!(
                    "unpacking stopped: more than {max_files} entries"
                )));
            }
        }
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(filesystem), listed)?;
    Ok(Some(span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Limits;

    const BLOCK: usize = 4096;
    const BLOCKS: usize = 64;
    const INODES: usize = 32;
    const INODE_SIZE: usize = 256;

    fn put16(image: &mut [u8], at: usize, value: u16) {
        image[at..at + 2].copy_from_slice(&value.to_le_bytes());
    }

    fn put32(image: &mut [u8], at: usize, value: u32) {
        image[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Writes inode `number`: (mode, size, links, blocks, flags) and i_block.
    fn inode(image: &mut [u8], number: usize, shape: (u16, u32, u16, u32, u32), block: &[u8]) {
        let (mode, size, links, blocks, flags) = shape;
        let at = 4 * BLOCK + (number - 1) * INODE_SIZE;
        put16(image, at, mode);
        put32(image, at + 0x04, size);
        put16(image, at + 0x1a, links);
        put32(image, at + 0x1c, blocks * (BLOCK as u32 / 512));
        put32(image, at + 0x20, flags);
        image[at + 0x28..at + 0x28 + block.len()].copy_from_slice(block);
        put16(image, at + 0x80, 32); // i_extra_isize
    }

    /// An extent tree root in i_block: a header, then (logical, length, physical) leaves
    /// or, with `depth` 1, one index entry naming the leaf block.
    fn extent_root(depth: u16, entries: &[(u32, u16, u32)]) -> Vec<u8> {
        let mut root = vec![0u8; 60];
        put16(&mut root, 0, EXTENT_MAGIC);
        put16(&mut root, 2, entries.len() as u16);
        put16(&mut root, 4, 4);
        put16(&mut root, 6, depth);
        for (index, &(logical, length, physical)) in entries.iter().enumerate() {
            let at = 12 + index * 12;
            put32(&mut root, at, logical);
            if depth == 0 {
                put16(&mut root, at + 4, length);
                put32(&mut root, at + 8, physical);
            } else {
                put32(&mut root, at + 4, physical);
            }
        }
        root
    }

    /// A directory block: entries (inode, type, name), the last one reaching the end.
    fn directory(image: &mut [u8], block: usize, entries: &[(u32, u8, &str)]) {
        let mut at = block * BLOCK;
        for (index, &(number, kind, name)) in entries.iter().enumerate() {
            let record = if index + 1 == entries.len() {
                block * BLOCK + BLOCK - at
            } else {
                (8 + name.len()).next_multiple_of(4)
            };
            put32(image, at, number);
            put16(image, at + 4, record as u16);
            image[at + 6] = name.len() as u8;
            image[at + 7] = kind;
            image[at + 8..at + 8 + name.len()].copy_from_slice(name.as_bytes());
            at += record;
        }
    }

    /// An ext4 filesystem laid out as Android's make_ext4fs writes it (Debian has no
    /// make_ext4fs): 4 KiB blocks, one group of 32768 blocks per group, 256-byte inodes,
    /// filetype and extents without flex_bg, journal or checksums, every file and
    /// directory in extents. A file's tree has an index level with an uninitialized
    /// extent and a hole; links are fast and slow.
    fn make_ext4fs_image() -> Vec<u8> {
        let mut image = vec![0u8; BLOCKS * BLOCK];
        let used_blocks = 17;
        let used_inodes = 17;
        // Superblock.
        let sb = 1024;
        put32(&mut image, sb, INODES as u32);
        put32(&mut image, sb + 0x04, BLOCKS as u32);
        put32(&mut image, sb + 0x0c, (BLOCKS - used_blocks) as u32);
        put32(&mut image, sb + 0x10, (INODES - used_inodes) as u32);
        put32(&mut image, sb + 0x14, 0); // first data block
        put32(&mut image, sb + 0x18, 2); // 4 KiB
        put32(&mut image, sb + 0x1c, 2);
        put32(&mut image, sb + 0x20, 32768);
        put32(&mut image, sb + 0x24, 32768);
        put32(&mut image, sb + 0x28, INODES as u32);
        put16(&mut image, sb + 0x36, 0xffff); // max mount count: unlimited
        put16(&mut image, sb + 0x38, 0xef53);
        put16(&mut image, sb + 0x3a, 1); // clean
        put16(&mut image, sb + 0x3c, 1); // continue on errors
        put32(&mut image, sb + 0x4c, 1); // dynamic revision
        put32(&mut image, sb + 0x54, 11); // first inode
        put16(&mut image, sb + 0x58, INODE_SIZE as u16);
        put32(&mut image, sb + 0x60, 0x2 | 0x40); // filetype, extents
        put32(&mut image, sb + 0x64, 0x1 | 0x2); // sparse_super, large_file
        image[sb + 0x68..sb + 0x78].copy_from_slice(b"provisor-ext4-tt");
        // Group descriptor: bitmaps in blocks 2 and 3, the inode table in 4 and 5.
        let gd = BLOCK;
        put32(&mut image, gd, 2);
        put32(&mut image, gd + 4, 3);
        put32(&mut image, gd + 8, 4);
        put16(&mut image, gd + 0x0c, (BLOCKS - used_blocks) as u16);
        put16(&mut image, gd + 0x0e, (INODES - used_inodes) as u16);
        put16(&mut image, gd + 0x10, 4); // directories
        // Bitmaps: used blocks and inodes, and the padding past the group's end.
        for bit in (0..used_blocks).chain(BLOCKS..BLOCK * 8) {
            image[2 * BLOCK + bit / 8] |= 1 << (bit % 8);
        }
        for bit in (0..used_inodes).chain(INODES..BLOCK * 8) {
            image[3 * BLOCK + bit / 8] |= 1 << (bit % 8);
        }
        let (dir, file, link) = (0o040755, 0o100644, 0o120777);
        // Directories: / (2), lost+found (11), etc (12), bin (13) in blocks 6 to 9.
        for (number, block, links) in [(2, 6, 5), (11, 7, 2), (12, 8, 2), (13, 9, 2)] {
            inode(
                &mut image,
                number,
                (dir, BLOCK as u32, links, 1, FLAG_EXTENTS),
                &extent_root(0, &[(0, 1, block)]),
            );
        }
        directory(
            &mut image,
            6,
            &[
                (2, 2, "."),
                (2, 2, ".."),
                (11, 2, "lost+found"),
                (12, 2, "etc"),
                (13, 2, "bin"),
            ],
        );
        directory(&mut image, 7, &[(11, 2, "."), (2, 2, "..")]);
        directory(
            &mut image,
            8,
            &[(12, 2, "."), (2, 2, ".."), (14, 1, "passwd")],
        );
        directory(
            &mut image,
            9,
            &[
                (13, 2, "."),
                (2, 2, ".."),
                (15, 1, "big"),
                (16, 7, "sh"),
                (17, 7, "long"),
            ],
        );
        // /etc/passwd in block 10.
        let passwd = b"root:x:0:0:root:/root:/bin/sh\n";
        image[10 * BLOCK..10 * BLOCK + passwd.len()].copy_from_slice(passwd);
        inode(
            &mut image,
            14,
            (file, passwd.len() as u32, 1, 1, FLAG_EXTENTS),
            &extent_root(0, &[(0, 1, 10)]),
        );
        // /bin/big: an index in the inode, its leaf in block 11; blocks 0-1 in 12-13,
        // block 2 uninitialized in 14 (reads as zeros), block 3 a hole, block 4 in 15.
        let leaf = 11 * BLOCK;
        put16(&mut image, leaf, EXTENT_MAGIC);
        put16(&mut image, leaf + 2, 3);
        put16(&mut image, leaf + 4, ((BLOCK - 12) / 12) as u16);
        for (index, (logical, length, physical)) in
            [(0u32, 2u16, 12u32), (2, 32768 + 1, 14), (4, 1, 15)]
                .into_iter()
                .enumerate()
        {
            let at = leaf + 12 + index * 12;
            put32(&mut image, at, logical);
            put16(&mut image, at + 4, length);
            put32(&mut image, at + 8, physical);
        }
        image[12 * BLOCK..13 * BLOCK].fill(b'A');
        image[13 * BLOCK..14 * BLOCK].fill(b'B');
        image[14 * BLOCK..15 * BLOCK].fill(b'C');
        image[15 * BLOCK..15 * BLOCK + 100].fill(b'E');
        inode(
            &mut image,
            15,
            (file, (4 * BLOCK + 100) as u32, 1, 5, FLAG_EXTENTS),
            &extent_root(1, &[(0, 0, 11)]),
        );
        // /bin/sh -> busybox (fast); /bin/long -> an 80-character target in block 16.
        inode(&mut image, 16, (link, 7, 1, 0, 0), b"busybox");
        let target =
            "/usr/lib/vendor/firmware/tools/very/long/path/to/the/real/program/binary-v2.bin";
        image[16 * BLOCK..16 * BLOCK + target.len()].copy_from_slice(target.as_bytes());
        inode(
            &mut image,
            17,
            (link, target.len() as u32, 1, 1, FLAG_EXTENTS),
            &extent_root(0, &[(0, 1, 16)]),
        );
        image
    }

    fn mounted(image: Vec<u8>) -> Result<Vfs, String> {
        let data: Arc<[u8]> = image.into();
        let mut sandbox = Sandbox::new(Limits::default(), data.len() as u64);
        let mut vfs = Vfs::new();
        match mount_ext(&data, 0, "ext@0x0", &mut sandbox, &mut vfs) {
            Ok(_) => Ok(vfs),
            Err(Refused::Broken(reason) | Refused::Encrypted(reason)) => Err(reason),
            Err(Refused::NotThisFormat) => Err("not ext".into()),
        }
    }

    #[test]
    fn the_layout_android_make_ext4fs_writes_is_read() {
        let image = make_ext4fs_image();
        assert!(plausible(&image));
        // Debian's e2fsck, when present, agrees that the hand-built image is sound.
        if std::process::Command::new("e2fsck")
            .arg("-V")
            .output()
            .is_ok()
        {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), &image).unwrap();
            let check = std::process::Command::new("e2fsck")
                .args(["-fn"])
                .arg(file.path())
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{}{}",
                String::from_utf8_lossy(&check.stdout),
                String::from_utf8_lossy(&check.stderr)
            );
        }
        let vfs = mounted(image).unwrap();
        let limit = 1 << 20;
        assert_eq!(
            vfs.read("/etc/passwd", limit).unwrap(),
            b"root:x:0:0:root:/root:/bin/sh\n"
        );
        let big = vfs.read("/bin/big", limit).unwrap();
        assert_eq!(big.len(), 4 * BLOCK + 100);
        assert!(big[..BLOCK].iter().all(|&b| b == b'A'));
        assert!(big[BLOCK..2 * BLOCK].iter().all(|&b| b == b'B'));
        assert!(
            big[2 * BLOCK..4 * BLOCK].iter().all(|&b| b == 0),
            "uninitialized and hole read as zeros"
        );
        assert!(big[4 * BLOCK..].iter().all(|&b| b == b'E'));
        assert_eq!(
            vfs.entry("/bin/sh").unwrap().kind,
            NodeKind::Symlink("busybox".into())
        );
        match &vfs.entry("/bin/long").unwrap().kind {
            NodeKind::Symlink(target) => {
                assert!(target.ends_with("binary-v2.bin") && target.len() > 60)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(vfs.entry("/lost+found").unwrap().kind, NodeKind::Directory);
    }

    #[test]
    fn hostile_trees_end_in_an_error_not_a_loop() {
        // The leaf names itself as a child: an index node pointing at an index node.
        let mut image = make_ext4fs_image();
        let leaf = 11 * BLOCK;
        put16(&mut image, leaf + 6, 1);
        put32(&mut image, leaf + 12 + 4, 11);
        let vfs = mounted(image).unwrap();
        assert!(vfs.read("/bin/big", 1 << 20).is_err());
        // A directory that lists the root again is listed once.
        let mut image = make_ext4fs_image();
        directory(
            &mut image,
            9,
            &[(13, 2, "."), (2, 2, ".."), (2, 2, "again"), (13, 2, "self")],
        );
        let vfs = mounted(image).unwrap();
        assert!(vfs.entry("/bin/again").is_some());
        assert!(vfs.entry("/bin/again/etc").is_none());
        // A block past the end of the filesystem.
        let mut image = make_ext4fs_image();
        let at = 4 * BLOCK + 13 * INODE_SIZE + 0x28;
        put32(&mut image, at + 12 + 8, 1 << 30);
        let vfs = mounted(image).unwrap();
        assert!(vfs.read("/etc/passwd", 1 << 20).is_err());
    }
}
