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
        (
            "weak.tplink-v2.bin",
            "TP-Link-v2@0x0 > rootfs > squashfs@0x0",
        ),
        (
            "weak.tplink-rtos.bin",
            "TP-Link-RTOS@0x0 > image (model 802 v4) > squashfs@0x0",
        ),
        (
            "weak.jboot.bin",
            "JBOOT@0x0 > data (DLK6E2414001) > JBOOT-STAG@0x0 > firmware > JBOOT-SCH2@0x0 > rootfs > squashfs@0x0",
        ),
        (
            "weak.jboot-sysupgrade.bin",
            "JBOOT-STAG@0x0 > firmware > JBOOT-SCH2@0x0 > rootfs > squashfs@0x0",
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
        ("weak.tplink-v2.bin", "TP-Link-v2"),
        ("weak.jboot.bin", "JBOOT"),
        ("weak.jboot-sysupgrade.bin", "JBOOT-SCH2"),
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

/// JBOOT's three headers each check their own part: a changed kernel byte fails STAG's
/// checksum and SCH2's kernel CRC, a changed root filesystem byte SCH2's root
/// filesystem CRC, a changed tag byte the tag's checksum; a cut image is reported cut.
#[test]
fn jboot_checks_each_part() {
    let work = tempfile::tempdir().unwrap();
    let original = std::fs::read(formats().join("weak.jboot-sysupgrade.bin")).unwrap();
    for (at, expected) in [
        (
            16 + 40 + 100,
            &[
                "JBOOT-STAG at offset 0x0: the kernel checksum does not match",
                "JBOOT-SCH2 at offset 0x0: the kernel CRC-32 does not match",
            ][..],
        ),
        (
            original.len() - 1,
            &["JBOOT-SCH2 at offset 0x0: the root filesystem CRC-32 does not match"][..],
        ),
        (
            4,
            &["JBOOT-STAG at offset 0x0: the tag checksum does not match"][..],
        ),
        (
            16 + 20,
            &["JBOOT-SCH2 at offset 0x0: the header CRC-32 does not match"][..],
        ),
    ] {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        let changed = work.path().join(format!("changed-{at}.bin"));
        std::fs::write(&changed, bytes).unwrap();
        let titles = titles(&changed);
        for title in expected {
            assert!(
                titles.iter().any(|found| found.starts_with(title)),
                "byte {at}: {title}: {titles:#?}"
            );
        }
    }
    let cut = work.path().join("cut.bin");
    std::fs::write(&cut, &original[..100]).unwrap();
    let titles = titles(&cut);
    assert!(
        titles.contains(&"JBOOT-STAG at offset 0x0 cannot be unpacked".to_owned()),
        "{titles:#?}"
    );
}

/// A CSman configuration store (zlib-compressed, little-endian): each entry a file, a
/// key met twice kept twice, the TLS key among the values found.
#[test]
fn csman_entries_are_files() {
    let image = formats().join("weak.csman.bin");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let options = provisor_firmware::ScanOptions {
        tool_version: "test".into(),
        ..Default::default()
    };
    provisor_firmware::unpack_to(&image, &out, &options).unwrap();
    let read = |name: &str| std::fs::read(out.join("csman").join(name)).unwrap();
    assert_eq!(read("00010001.dat"), b"admin");
    assert_eq!(read("00010002.dat"), b"admin1234");
    assert_eq!(read("00010001.dat_2"), b"operator");
    assert_eq!(
        read("00020031.dat"),
        std::fs::read(images().join("weak/rootfs/etc/ssl/private/device.key")).unwrap()
    );
    let failing = crate::failing(&scan(&image));
    assert!(
        failing
            .iter()
            .any(|line| line.starts_with("firmware.private-key")
                && line.contains("/csman/00020031.dat")),
        "{failing:#?}"
    );
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
