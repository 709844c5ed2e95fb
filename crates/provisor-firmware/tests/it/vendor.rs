//! Vendors' firmware wrappers (scripts/build-vendor-images.py writes them as each
//! vendor's tool does): each opened, its checksum verified (a changed byte is a finding
//! and the parts are opened all the same), the weak device found inside; encrypted
//! families named as encrypted.

use crate::formats::finds_the_weak_device;
use crate::{images, scan};

fn formats() -> std::path::PathBuf {
    images().join("formats")
}

/// The chains of the containers a scan opened.
fn chains(image: &std::path::Path) -> Vec<String> {
    scan(image)
        .containers
        .iter()
        .map(|container| container.chain.clone())
        .collect()
}

/// The unpacking findings' titles.
fn titles(image: &std::path::Path) -> Vec<String> {
    scan(image)
        .findings
        .iter()
        .filter(|finding| finding.check == "firmware.unpack")
        .map(|finding| finding.title.clone())
        .collect()
}

#[test]
fn wrappers_open_and_their_checksums_hold() {
    for (name, expected) in [
        ("weak.tplink.bin", "TP-Link@0x0 > rootfs > squashfs@0x0"),
        ("weak.seama", "SEAMA@0x0 > data > squashfs@0x0"),
        ("weak.chk", "CHK@0x0 > rootfs > squashfs@0x0"),
        (
            "weak.dlink-tlv.bin",
            "D-Link-TLV@0x0 > data (DIR-WEAK1) > squashfs@0x0",
        ),
        (
            "weak.arcadyan.bin",
            "arcadyan@0x0 > de-obfuscated LZMA > lzma@0x0 > gzip@0x0 > cpio@0x0",
        ),
        (
            "weak.dahua.bin",
            "dahua-zip@0x0 > romfs-x.squashfs.img > squashfs@0x0",
        ),
    ] {
        let image = formats().join(name);
        let found = chains(&image);
        assert!(found.contains(&expected.to_owned()), "{name}: {found:#?}");
        assert!(titles(&image).is_empty(), "{name}: {:#?}", titles(&image));
        finds_the_weak_device(&image);
    }
}

/// One byte of each wrapper's covered data changed (in the squashfs' padding, so that
/// what it holds still reads): the checksum's mismatch is reported, the parts opened.
#[test]
fn a_changed_wrapper_is_reported_and_opened() {
    let work = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("weak.tplink.bin", "TP-Link"),
        ("weak.seama", "SEAMA"),
        ("weak.chk", "CHK"),
        ("weak.dlink-tlv.bin", "D-Link-TLV"),
    ] {
        let mut bytes = std::fs::read(formats().join(name)).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x5a;
        let changed = work.path().join(name);
        std::fs::write(&changed, bytes).unwrap();
        let titles = titles(&changed);
        assert!(
            titles.iter().any(
                |title| title.starts_with(&format!("{format} at offset 0x0: "))
                    && title.contains("does not match")
            ),
            "{name}: {titles:#?}"
        );
        finds_the_weak_device(&changed);
    }
}

/// Encrypted firmware is named by its family, not "no known container".
#[test]
fn encrypted_families_are_named() {
    for (name, family) in [
        ("weak.shrs.bin", "D-Link SHRS"),
        ("weak.openssl", "OpenSSL enc (salted)"),
    ] {
        let titles = titles(&formats().join(name));
        assert!(
            titles.contains(&format!("encrypted firmware ({family}) at offset 0x0")),
            "{name}: {titles:#?}"
        );
    }
}
