//! SquashFS 1.x layouts: 3-byte inode bases (4-bit type, 12-bit mode, 4-bit owner and
//! group indexes), no fragments, FIFOs and sockets as one "IPC" type, files with 32-bit
//! addresses and 16-bit block sizes, and the directory format of 2.x. Up to 48 owners fit
//! in 4 bits because the type carries the owner index's high bits: type `t` above 0 is
//! type `(t - 1) % 5 + 1` with owner `(t - 1) / 5 * 16 + uid`, and an IPC inode holds them
//! in its offset field. Bit positions are those of squashfs-tools' swap macros.

use super::{Class, Header, Order};

/// The common part every inode starts with: type, mode, owner, group.
pub(super) const BASE: usize = 3;

/// Types without the owner's high bits: IPC (FIFO or socket), directory, file, link,
/// block and character device.
pub(super) fn real_type(kind: u8) -> u8 {
    if kind == 0 { 0 } else { (kind - 1) % 5 + 1 }
}

/// An inode type's fixed size.
pub(super) fn inode_size(kind: u8) -> Option<usize> {
    match real_type(kind) {
        0 => Some(4),
        1 => Some(14),
        2 => Some(15),
        _ => Some(5),
    }
}

pub(super) fn parse_inode(order: Order, data: &[u8]) -> Header {
    let field = |at: usize, bits: usize| order.field(data, at, bits);
    let kind = field(0, 4) as u8;
    let high = if kind == 0 {
        field(28, 4)
    } else {
        u64::from((kind - 1) / 5)
    };
    let class = match real_type(kind) {
        1 => Class::Directory {
            size: field(24, 19),
            offset: field(43, 13) as usize,
            block: field(88, 24),
        },
        2 => Class::File {
            start: field(56, 32),
            size: field(88, 32),
            fragment: None,
        },
        3 => Class::Symlink {
            length: field(24, 16) as usize,
        },
        _ => Class::Special,
    };
    Header {
        class,
        mode: field(4, 12) as u32,
        uid: (high * 16 + field(16, 4)) as usize,
        gid: field(20, 4) as usize,
    }
}
