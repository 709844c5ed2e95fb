//! Vendors' firmware wrappers: a header in front of the parts a device's updater
//! writes, each parsed from its vendor's tool (mktplinkfw and mktplinkfw2, the SEAMA
//! and TLV tools of D-Link's GPL releases, mkdlinkfw's JBOOT headers, Netgear's
//! mkchkimg, Arcadyan's obfuscation of its LZMA header, Dahua's ZIP with an altered
//! magic, packimg, Realtek's RTK), each vendor in its own file, and the CSman
//! configuration store. A wrapper's checksum or digest is verified where it has one; a
//! mismatch is a finding and its parts are searched all the same. `encrypted.rs` names
//! the encrypted firmware families whose contents cannot be read.

pub(crate) mod arcadyan;
pub(crate) mod chk;
pub(crate) mod csman;
pub(crate) mod dahua;
pub(crate) mod dlink_tlv;
pub(crate) mod encrypted;
pub(crate) mod jboot;
pub(crate) mod packimg;
pub(crate) mod rtk;
pub(crate) mod seama;
pub(crate) mod tplink;

/// A big-endian u32 of a header already read whole.
fn be32(data: &[u8], at: usize) -> u64 {
    super::be32_at(data, at).map_or(0, u64::from)
}

/// A NUL-terminated text field.
fn text(data: &[u8]) -> String {
    let end = data
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).trim().to_owned()
}

/// The MD5 of a range of a blob, as lowercase hex.
fn md5_hex(digest: [u8; 16]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}
