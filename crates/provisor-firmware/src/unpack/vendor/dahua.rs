//! Dahua's firmware ZIP (IP cameras and recorders): an ordinary ZIP archive whose first
//! local header says "DH" where ZIP says "PK", so that ZIP tools refuse it. The magic is
//! put right in a copy and the archive read as ZIP.

use std::sync::Arc;

use super::super::zip;
use super::super::{Opened, Refused};
use crate::sandbox::Sandbox;
use crate::vfs::Vfs;

pub(crate) const MAGIC: &[u8; 4] = b"DH\x03\x04";

/// The archive with "PK" in its first local header.
fn repaired(data: &[u8]) -> Vec<u8> {
    let mut copy = data.to_vec();
    copy[..2].copy_from_slice(b"PK");
    copy
}

pub(crate) fn plausible(data: &[u8]) -> bool {
    data.starts_with(MAGIC) && zip::plausible(&repaired(&data[..data.len().min(64)]))
}

/// Reads the repaired archive as ZIP.
pub(crate) fn open(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Opened, Refused> {
    let copy: Arc<[u8]> = Arc::from(repaired(&data[offset..]));
    zip::mount_zip(&copy, 0, chain, sandbox, vfs)
}
