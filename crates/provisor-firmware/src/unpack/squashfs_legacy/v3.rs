//! SquashFS 3.x layouts: inodes that carry a modification time, an inode number and (but
//! for files) a link count after the 4-bit type, 12-bit mode and 8-bit owner and group
//! indexes; 64-bit block addresses; files over 4 GiB and directories with an index
//! ("large" inodes); directory headers with a 32-bit block and entries with a 16-bit
//! inode number difference. Bit positions are those of squashfs-tools' swap macros.

use super::{Class, Header, Listing, Order};

/// The common part every inode starts with: type, mode, owner, group, time, number.
pub(super) const BASE: usize = 12;

/// An inode type's fixed size: directory, file, link, block and character device, FIFO,
/// socket, large directory, large file.
pub(super) fn inode_size(kind: u8) -> Option<usize> {
    match kind {
        1 => Some(28),
        2 => Some(32),
        3..=5 => Some(18),
        6 | 7 => Some(16),
        8 => Some(31),
        9 => Some(40),
        _ => None,
    }
}

pub(super) fn parse_inode(order: Order, data: &[u8]) -> Header {
    let field = |at: usize, bits: usize| order.field(data, at, bits);
    let kind = field(0, 4);
    let class = match kind {
        1 => Class::Directory {
            size: field(128, 19),
            offset: field(147, 13) as usize,
            block: field(160, 32),
        },
        8 => Class::Directory {
            size: field(128, 27),
            offset: field(155, 13) as usize,
            block: field(168, 32),
        },
        2 | 9 => {
            let (start, fragment, offset, size) = if kind == 2 {
                (
                    field(96, 64),
                    field(160, 32),
                    field(192, 32),
                    field(224, 32),
                )
            } else {
                (
                    field(128, 64),
                    field(192, 32),
                    field(224, 32),
                    field(256, 64),
                )
            };
            // A file smaller than a block in a fragment: the marker for none is all ones.
            let fragment = (fragment != 0xffff_ffff).then_some((fragment as u32, offset as u32));
            Class::File {
                start,
                size,
                fragment,
            }
        }
        3 => Class::Symlink {
            length: field(128, 16) as usize,
        },
        _ => Class::Special,
    };
    Header {
        class,
        mode: field(4, 12) as u32,
        uid: field(16, 8) as usize,
        gid: field(24, 8) as usize,
    }
}

/// Directory listings: 9-byte headers (count, a 32-bit block, a base inode number),
/// 5-byte entries (offset, type, name length, inode number difference); a directory's
/// size counts 3 bytes more (for "." and "..").
pub(super) const LISTING: Listing = Listing {
    header: 9,
    block_bits: 32,
    entry: 5,
    counted: 3,
};
