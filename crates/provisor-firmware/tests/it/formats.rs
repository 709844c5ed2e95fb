//! The further formats (`scripts/build-format-images`): the weak device's tree built
//! into each by the tool Debian packages for it, unpacked file by file as it was built,
//! and scanned with the weak device's planted weaknesses found in it.

use crate::unpack::{unpacked_as_built, unpacked_as_built_but_links};
use crate::{failing, images, scan};

fn formats() -> std::path::PathBuf {
    let directory = images().join("formats");
    assert!(
        directory.join("weak.romfs").exists(),
        "the format test images are missing from {}: run scripts/build-format-images",
        directory.display()
    );
    directory
}

/// The chains of the containers a manifest lists, outermost first.
fn chains(manifest: &serde_json::Value) -> Vec<String> {
    manifest["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|container| container["chain"].as_str().unwrap().to_owned())
        .collect()
}

/// The weak device's default root password is found in an image of the format.
pub fn finds_the_weak_device(image: &std::path::Path) {
    let failing = failing(&scan(image));
    assert!(
        failing
            .iter()
            .any(|line| line.starts_with("firmware.default-password account root")),
        "{}: {failing:#?}",
        image.display()
    );
}

/// Asserts that a scan of `image` has a finding whose title and detail `wanted` accepts,
/// showing every title and detail when none has.
pub fn some_finding(image: &std::path::Path, wanted: impl Fn(&str, &str) -> bool) {
    let findings = scan(image).findings;
    assert!(
        findings
            .iter()
            .any(|finding| wanted(&finding.title, &finding.detail)),
        "{}: {:#?}",
        image.display(),
        findings
            .iter()
            .map(|finding| (&finding.title, &finding.detail))
            .collect::<Vec<_>>()
    );
}

/// FAT16 and FAT32 volumes of the tree (mkfs.vfat, mcopy): every file by its long name,
/// and the weak device's password found.
#[test]
fn fat_volumes() {
    for (image, kind) in [("weak.fat16.img", "FAT"), ("weak.fat32.img", "FAT")] {
        let image = formats().join(image);
        let manifest = unpacked_as_built_but_links(&image, &images().join("weak/rootfs"));
        assert_eq!(manifest["containers"][0]["format"], kind, "{manifest:#}");
        finds_the_weak_device(&image);
    }
}

/// ISO 9660 as xorriso writes it: with Rock Ridge the tree as built (modes, owners,
/// links); with Joliet names only, every file.
#[test]
fn iso9660_with_rock_ridge_and_joliet() {
    let image = formats().join("weak.iso");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    assert_eq!(
        manifest["containers"][0]["format"], "ISO9660",
        "{manifest:#}"
    );
    let shadow = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["path"] == "/etc/shadow")
        .unwrap();
    assert_eq!(shadow["mode"], "0600", "{shadow:#}");
    finds_the_weak_device(&image);
    let joliet = formats().join("weak.joliet.iso");
    unpacked_as_built_but_links(&joliet, &images().join("weak/rootfs"));
}

/// Android boot images of header versions 2 and 3: each part handed on by name, the
/// ramdisk's cpio unpacked as built.
#[test]
fn android_boot_images() {
    for (name, parts) in [
        ("weak.boot-v2.img", &["kernel", "ramdisk", "dtb"][..]),
        ("weak.boot-v3.img", &["kernel", "ramdisk"][..]),
    ] {
        let image = formats().join(name);
        let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
        let chains = chains(&manifest);
        assert_eq!(
            manifest["containers"][0]["format"], "android-boot",
            "{name}"
        );
        assert!(
            chains.contains(&"android-boot@0x0 > ramdisk > gzip@0x0 > cpio@0x0".to_owned())
                && chains.contains(&"android-boot@0x0 > kernel > gzip@0x0".to_owned()),
            "{name}: {chains:#?}"
        );
        let payloads: Vec<&str> = manifest["payloads"]
            .as_array()
            .map(|payloads| {
                payloads
                    .iter()
                    .filter_map(|payload| payload["chain"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        if parts.contains(&"dtb") {
            assert!(
                payloads.contains(&"android-boot@0x0 > dtb"),
                "{name}: {manifest:#}"
            );
        }
    }
    finds_the_weak_device(&formats().join("weak.boot-v3.img"));
}

/// A Matter OTA image: its header read (the payload named by vendor, product and version)
/// and its payload opened; a payload that no longer matches its digest is a finding and
/// opened all the same. A UEFI capsule's body is opened.
#[test]
fn matter_ota_images_and_uefi_capsules() {
    let image = formats().join("weak.ota");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    assert_eq!(
        chains(&manifest),
        [
            "matter-ota@0x0",
            "matter-ota@0x0 > payload (vendor 0xfff1, product 0x8001, version 1.0.4-weak) > squashfs@0x0"
        ],
        "{manifest:#}"
    );
    let mut bytes = std::fs::read(&image).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    let work = tempfile::tempdir().unwrap();
    let modified = work.path().join("modified.ota");
    std::fs::write(&modified, bytes).unwrap();
    some_finding(&modified, |title, _| {
        title
            == "matter-ota at offset 0x0: the payload's SHA-256 digest does not match the header's"
    });
    finds_the_weak_device(&modified);

    let capsule = formats().join("weak.cap");
    let manifest = unpacked_as_built(&capsule, &images().join("weak/rootfs"));
    assert_eq!(
        chains(&manifest)[..2],
        [
            "UEFI-capsule@0x0",
            "UEFI-capsule@0x0 > firmware management capsule body > squashfs@0x10000"
        ],
        "{manifest:#}"
    );
}

/// 7-Zip archives of the tree (solid LZMA2, and bzip2 not solid), links kept; an
/// encrypted one is reported as encrypted.
#[test]
fn seven_zip_archives() {
    for name in ["weak.7z", "weak.bzip2.7z"] {
        let image = formats().join(name);
        let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
        assert_eq!(manifest["containers"][0]["format"], "7z", "{name}");
    }
    finds_the_weak_device(&formats().join("weak.7z"));
    some_finding(&formats().join("weak.secret.7z"), |_, detail| {
        detail.contains("inconclusive: encrypted")
    });
}

#[test]
fn romfs() {
    let image = formats().join("weak.romfs");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    assert_eq!(manifest["containers"][0]["format"], "romfs");
    finds_the_weak_device(&image);
}

/// A DOS disk: partition 1 holds the tree as ext2, partition 2 its /etc as FAT12, logical
/// partition 5 (in an extended partition's EBR chain) the tree as squashfs; each is
/// found and opened.
#[test]
fn an_mbr_disk_with_a_logical_partition() {
    let image = formats().join("weak.mbr.img");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    assert_eq!(
        chains(&manifest),
        [
            "MBR@0x0",
            "MBR@0x0 > partition-1 > ext@0x0",
            "MBR@0x0 > partition-2 > FAT@0x0",
            "MBR@0x0 > partition-5 > squashfs@0x0"
        ],
        "{manifest:#}"
    );
    finds_the_weak_device(&image);
}

/// A GPT disk: the partitions by their names, a gzip'd payload in one and the tree as
/// ext2 in the other.
#[test]
fn a_gpt_disk_with_named_partitions() {
    let image = formats().join("weak.gpt.img");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    assert_eq!(
        chains(&manifest),
        [
            "GPT@0x0",
            "GPT@0x0 > partition-1-kernel > gzip@0x0",
            "GPT@0x0 > partition-2-rootfs > ext@0x0"
        ],
        "{manifest:#}"
    );
    assert_eq!(manifest["containers"][2]["image_offset"], 4096 * 512);
    assert_eq!(manifest["payloads"].as_array().unwrap().len(), 1);
    finds_the_weak_device(&image);
}

/// ZIP archives of the tree (deflate and bzip2; Unix modes and links kept) are mounted
/// and read file by file as built.
#[test]
fn zip_archives_of_a_root_filesystem() {
    for name in ["weak.zip", "weak.bzip2.zip"] {
        let image = formats().join(name);
        let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
        assert_eq!(manifest["containers"][0]["format"], "zip", "{name}");
        let shadow = manifest["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["path"] == "/etc/shadow")
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        let stored = std::fs::metadata(images().join("weak/rootfs/etc/shadow"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            shadow["mode"],
            format!("{:04o}", stored & 0o7777),
            "{name}: the Unix mode is kept"
        );
    }
    finds_the_weak_device(&formats().join("weak.zip"));
}

/// A ZIP cut off before its central directory: the members its local headers give, up
/// to the cut, each whole; nothing past it. (Only the central directory says a member
/// is a link: without it a link reads as a file holding its target.)
#[test]
fn a_truncated_zip_gives_what_its_local_headers_hold() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let manifest = provisor_firmware::unpack_to(
        &formats().join("weak.cut.zip"),
        &out,
        &provisor_firmware::ScanOptions::default(),
    )
    .unwrap();
    let source = images().join("weak/rootfs");
    let files: Vec<&provisor_firmware::Entry> = manifest
        .entries
        .iter()
        .filter(|entry| entry.kind == "file" && entry.written.is_some())
        .collect();
    assert!(files.len() > 20, "{}", files.len());
    for entry in files {
        let path = source.join(entry.path.trim_start_matches('/'));
        if std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink()
        {
            continue;
        }
        let original = std::fs::read(&path).unwrap();
        assert_eq!(
            std::fs::read(out.join(entry.path.trim_start_matches('/'))).unwrap(),
            original,
            "{}",
            entry.path
        );
    }
}

/// A vendor's bundle (an image, notes, a signature) hands its files on: the image is
/// opened inside it, the others are kept as payloads.
#[test]
fn a_bundle_zip_opens_the_image_it_carries() {
    let image = formats().join("bundle.zip");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    assert_eq!(
        chains(&manifest),
        ["zip@0x0", "zip@0x0 > weak.bin > squashfs@0x10000"]
    );
    let payloads: Vec<&str> = manifest["payloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|payload| payload["chain"].as_str().unwrap())
        .collect();
    assert_eq!(payloads, ["zip@0x0 > NOTES.txt", "zip@0x0 > weak.bin.sig"]);
    finds_the_weak_device(&image);
}

/// The initramfs through lz4 (a frame of dependent blocks with checksums; the legacy
/// format) and lzop: each stream is decoded whole and the cpio inside is read as built;
/// the stream's span is exact.
#[test]
fn lz4_and_lzop_streams() {
    for (name, format) in [
        ("weak.cpio.lz4", "lz4"),
        ("weak.cpio.lz4-legacy", "lz4-legacy"),
        ("weak.cpio.lzo", "lzop"),
    ] {
        let image = formats().join(name);
        let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
        let outer = &manifest["containers"][0];
        assert_eq!(outer["format"], format, "{name}");
        assert_eq!(
            outer["size"].as_u64().unwrap(),
            std::fs::metadata(&image).unwrap().len(),
            "{name}: the stream spans the file"
        );
        assert_eq!(manifest["containers"][1]["format"], "cpio", "{name}");
    }
    finds_the_weak_device(&formats().join("weak.cpio.lzo"));
}

/// A FAT whose every cluster points at itself: the chains loop, the scan says so and
/// ends.
#[test]
fn a_looping_fat_is_reported() {
    let mut image = std::fs::read(formats().join("weak.fat16.img")).unwrap();
    let sector = u16::from_le_bytes([image[11], image[12]]) as usize;
    let reserved = u16::from_le_bytes([image[14], image[15]]) as usize;
    let table = u16::from_le_bytes([image[22], image[23]]) as usize * sector;
    let start = reserved * sector;
    for cluster in 2..table / 2 {
        image[start + cluster * 2..start + cluster * 2 + 2]
            .copy_from_slice(&(cluster as u16).to_le_bytes());
    }
    let work = tempfile::tempdir().unwrap();
    let looping = work.path().join("looping.fat16.img");
    std::fs::write(&looping, image).unwrap();
    some_finding(&looping, |_, detail| {
        detail.contains("FAT16 is corrupt") && detail.contains("loops")
    });
}

/// A TRX whose CRC no longer matches (its last byte, padding, changed): the mismatch is
/// a finding, and the partitions are searched all the same.
#[test]
fn a_wrapper_with_a_bad_crc_is_reported_and_opened() {
    let mut image = std::fs::read(images().join("weak/weak.trx")).unwrap();
    let length = u32::from_le_bytes(image[4..8].try_into().unwrap()) as usize;
    image[length - 1] ^= 0x5a;
    let work = tempfile::tempdir().unwrap();
    let modified = work.path().join("modified.trx");
    std::fs::write(&modified, image).unwrap();
    some_finding(&modified, |title, _| {
        title.starts_with("TRX at offset 0x0: the CRC does not match")
    });
    finds_the_weak_device(&modified);
}
