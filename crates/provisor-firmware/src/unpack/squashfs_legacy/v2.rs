//! SquashFS 2.x layouts: 4-byte inode bases (4-bit type, 12-bit mode, 8-bit owner and
//! group indexes) with no inode numbers or link counts, files with a fragment and 32-bit
//! addresses, directories whose listing block is 24 bits, and the directory format 1.x
//! shares: headers of a count and a 24-bit block, entries of a 13-bit offset, a type and
//! a name length. Bit positions are those of squashfs-tools' swap macros.

use super::{Class, Header, Listing, Order};

/// The common part every inode starts with: type, mode, owner, group.
pub(super) const BASE: usize = 4;

/// An inode type's fixed size: directory, file, link, block and character device, FIFO,
/// socket, large directory.
pub(super) fn inode_size(kind: u8) -> Option<usize> {
    match kind {
        1 => Some(15),
        2 => Some(24),
        3..=5 => Some(6),
        6 | 7 => Some(4),
        8 => Some(18),
        _ => None,
    }
}

pub(super) fn parse_inode(order: Order, data: &[u8]) -> Header {
    let field = |at: usize, bits: usize| order.field(data, at, bits);
    let class = match field(0, 4) {
        1 => Class::Directory {
            size: field(32, 19),
            offset: field(51, 13) as usize,
            block: field(96, 24),
        },
        8 => Class::Directory {
            size: field(32, 27),
            offset: field(59, 13) as usize,
            block: field(104, 24),
        },
        2 => {
            let fragment = field(96, 32);
            Class::File {
                start: field(64, 32),
                size: field(160, 32),
                fragment: (fragment != 0xffff_ffff)
                    .then_some((fragment as u32, field(128, 32) as u32)),
            }
        }
        3 => Class::Symlink {
            length: field(32, 16) as usize,
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

/// Directory listings of 1.x and 2.x: 4-byte headers (count, a 24-bit block), 3-byte
/// entries (offset, type, name length).
pub(super) const LISTING: Listing = Listing {
    header: 4,
    block_bits: 24,
    entry: 3,
    counted: 0,
};
