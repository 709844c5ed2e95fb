//! Hostile input: truncated and corrupted images, garbage, and links that try to leave
//! the image. Each ends in findings (inconclusive where something could not be read),
//! never a panic, and nothing outside the image is read.

use std::fs;
use std::os::unix::fs::symlink;

use provisor_engine::Outcome;

use crate::{images, scan};

#[test]
fn a_truncated_image_is_inconclusive_with_its_offset() {
    let image = fs::read(images().join("weak/weak.bin")).unwrap();
    let directory = tempfile::tempdir().unwrap();
    for cut in [0x10000 + 200, image.len() / 2] {
        let path = directory.path().join("cut.bin");
        fs::write(&path, &image[..cut]).unwrap();
        let findings = scan(&path);
        let unpack = findings
            .findings
            .iter()
            .find(|finding| finding.check == "firmware.unpack")
            .unwrap_or_else(|| panic!("cut at {cut}: {:#?}", findings.findings));
        assert_eq!(unpack.outcome, Outcome::Inconclusive);
        assert!(unpack.title.contains("0x10000"), "{}", unpack.title);
    }
    // Cut inside the trailing padding or the last tables: whatever is readable is read.
    for cut in [image.len() - 1000, image.len() - 9000] {
        let path = directory.path().join("cut.bin");
        fs::write(&path, &image[..cut]).unwrap();
        let _ = scan(&path);
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    // Every decoder provisor implements or wraps, the squashfs one hardest.
    for (name, seeds) in [
        ("weak/weak.gzip.squashfs", 24u64),
        ("weak/weak.lzo.squashfs", 6),
        ("weak/weak.le.cramfs", 6),
        ("weak/weak.ext4", 6),
        ("weak/weak.fit", 4),
        ("weak/weak.trx", 4),
        ("weak/weak.be.jffs2", 6),
        ("weak/weak.lzma.jffs2", 4),
        ("weak/weak.zlib.ubifs", 6),
        ("weak/weak.ubi", 6),
    ] {
        let image = fs::read(images().join(name)).unwrap();
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("corrupt.img");
        // Deterministic corruption at spread offsets, headers and tables included.
        for seed in 0..seeds {
            let mut bytes = image.clone();
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for _ in 0..64 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state as usize) % bytes.len();
                bytes[at] ^= (state >> 32) as u8 | 1;
            }
            if seed % 3 == 0 {
                bytes[40..48].copy_from_slice(&(u64::MAX - seed).to_le_bytes());
            }
            fs::write(&path, &bytes).unwrap();
            let _ = scan(&path);
        }
    }
}

#[test]
fn garbage_has_nothing_to_unpack() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("garbage.bin");
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    fs::write(&path, garbage).unwrap();
    let findings = scan(&path);
    assert_eq!(findings.findings.len(), 1);
    assert_eq!(findings.findings[0].outcome, Outcome::Inconclusive);
    // As random as ciphertext: said to look encrypted.
    assert!(
        findings.findings[0].title.contains("looks encrypted"),
        "{:?}",
        findings.findings[0].title
    );
    assert!(
        findings.findings[0]
            .detail
            .starts_with("inconclusive: encrypted")
    );
    // Text: nothing known, and not encrypted either.
    fs::write(
        &path,
        "nothing in here but words, words and words\n".repeat(5000),
    )
    .unwrap();
    let findings = scan(&path);
    assert_eq!(findings.findings.len(), 1);
    assert!(findings.findings[0].title.contains("no known filesystem"));
}

#[test]
fn links_cannot_reach_the_host() {
    // A root filesystem whose account files are links out of the image: they resolve
    // inside the image (to themselves, a loop) and the host's files are never read.
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    fs::create_dir_all(root.join("etc")).unwrap();
    symlink("../../../../../../etc/passwd", root.join("etc/passwd")).unwrap();
    symlink("/etc/shadow", root.join("etc/shadow")).unwrap();
    symlink("/", root.join("etc/up")).unwrap();
    fs::write(
        root.join("etc/inittab"),
        "::respawn:/etc/up/../../usr/sbin/telnetd\n",
    )
    .unwrap();
    let findings = scan(root);
    for finding in &findings.findings {
        assert_ne!(finding.check, "firmware.default-password", "{finding:?}");
    }
}

#[test]
fn a_deep_tree_is_bounded() {
    let directory = tempfile::tempdir().unwrap();
    let mut path = directory.path().to_path_buf();
    for _ in 0..80 {
        path.push("d");
    }
    fs::create_dir_all(&path).unwrap();
    let findings = scan(directory.path());
    assert!(
        findings
            .findings
            .iter()
            .any(|f| f.check == "firmware.unpack" && f.outcome == Outcome::Inconclusive)
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_limit() {
    let findings = scan(&images().join("hostile/bomb.gz"));
    let stopped = findings
        .findings
        .iter()
        .find(|finding| finding.check == "firmware.unpack")
        .unwrap_or_else(|| panic!("{:#?}", findings.findings));
    assert_eq!(stopped.outcome, Outcome::Inconclusive);
    assert!(stopped.detail.contains("limit"), "{}", stopped.detail);
}

#[test]
fn archive_members_stay_inside_the_image() {
    let findings = scan(&images().join("hostile/traversal.tar"));
    assert!(!std::path::Path::new("/tmp/provisor-escape").exists());
    // "a/../../etc/inittab" lands on /etc/inittab inside the image and is read there.
    let telnet = findings
        .findings
        .iter()
        .find(|finding| finding.check == "firmware.plaintext-login-service")
        .unwrap_or_else(|| panic!("{:#?}", findings.findings));
    assert_eq!(telnet.location.path.as_deref(), Some("/etc/inittab"));
    // /etc/passwd is a link out of the image: it resolves inside, to nothing.
    assert!(
        findings
            .findings
            .iter()
            .all(|f| f.check != "firmware.default-password")
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_inconclusive() {
    let findings = scan(&images().join("hostile/nested.gz"));
    assert!(
        findings
            .findings
            .iter()
            .any(|finding| finding.outcome == Outcome::Inconclusive
                && finding.title.contains("nested deeper")),
        "{:#?}",
        findings.findings
    );
}

/// Found by `scripts/fuzz` (fuzz/firmware): squashfs metadata whose offsets make
/// backhand's arithmetic overflow, once while opening the image and once while reading
/// a file of it. Both are contained and the scan completes.
#[test]
fn regression_squashfs_offset_overflow_is_contained() {
    for fixture in ["squashfs-offset-overflow.bin", "squashfs-read-overflow.bin"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        let findings = scan(&path);
        assert_eq!(
            findings.target.size,
            Some(fs::metadata(&path).unwrap().len()),
            "{fixture}"
        );
    }
}

/// Found by `scripts/fuzz gpt`: a GPT header whose table lies at a sector number that
/// overflows when multiplied by the sector size. The table is read as absent.
#[test]
fn regression_gpt_table_offset_overflow() {
    let data = fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/gpt-table-offset-overflow.bin"),
    )
    .unwrap();
    assert_eq!(provisor_firmware::fuzzing::unpack_as("gpt", &data), 0);
}

/// Found by `scripts/fuzz matter-ota`: a Matter OTA header whose payload size added to
/// the header's overflowed. The sizes are refused as not adding up.
#[test]
fn regression_matter_ota_payload_size_overflow() {
    let data = fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/matter-ota-payload-size-overflow.bin"),
    )
    .unwrap();
    assert_eq!(
        provisor_firmware::fuzzing::unpack_as("matter-ota", &data),
        0
    );
}

/// The entry points of the per-parser fuzz targets open each format's seed (so the
/// fuzzers start from inputs that reach deep into the parsers) and refuse a header
/// that is not the format's.
#[test]
fn every_fuzz_entry_point_opens_its_seed() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/firmware");
    for (format, seed) in [
        ("squashfs", "tiny.squashfs"),
        ("squashfs", "tiny.lzo.squashfs"),
        ("uimage", "tiny.uimage"),
        ("fit", "tiny.fit"),
        ("trx", "tiny.trx"),
        ("cramfs", "tiny.cramfs"),
        ("romfs", "tiny.romfs"),
        ("mbr", "tiny.mbr"),
        ("gpt", "tiny.gpt"),
        ("zip", "tiny.zip"),
        ("lz4", "tiny.cpio.lz4"),
        ("lz4-legacy", "tiny.cpio.lz4-legacy"),
        ("lzop", "tiny.cpio.lzo"),
        ("ext", "tiny.ext4"),
        ("ext", "tiny.genext2fs.ext2"),
        ("android-sparse", "tiny.simg"),
        ("jffs2", "tiny.le.jffs2"),
        ("jffs2", "tiny.be.jffs2"),
        ("ubi", "tiny.ubi"),
        ("ubifs", "tiny.ubifs"),
        ("gzip", "tiny.cpio.gz"),
        ("xz", "tiny.tar.xz"),
        ("fat", "tiny.fat12"),
        ("iso9660", "tiny.iso"),
        ("android-boot", "tiny.boot.img"),
        ("matter-ota", "tiny.ota"),
        ("UEFI-capsule", "tiny.cap"),
        ("yaffs2", "tiny.yaffs2"),
        ("7z", "tiny.7z"),
        ("squashfs", "../squashfs-legacy/tiny.3.be.lzma-bare"),
        ("squashfs", "../squashfs-legacy/tiny.1.le.zlib"),
        ("TP-Link", "../vendor/tiny.tplink.bin"),
        ("SEAMA", "../vendor/tiny.seama"),
        ("CHK", "../vendor/tiny.chk"),
        ("D-Link-TLV", "../vendor/tiny.dlink-tlv.bin"),
        ("arcadyan", "../vendor/tiny.arcadyan.bin"),
        ("dahua-zip", "../vendor/tiny.dahua.bin"),
        ("packimg", "../vendor/tiny.packimg"),
        ("RTK", "../vendor/tiny.rtk"),
    ] {
        let data = fs::read(seeds.join(seed)).unwrap();
        assert!(
            provisor_firmware::fuzzing::unpack_as(format, &data) > 0,
            "{format} {seed}"
        );
        assert_eq!(
            provisor_firmware::fuzzing::unpack_as("tar", &data),
            0,
            "{seed} is no tar"
        );
    }
    assert_eq!(
        provisor_firmware::fuzzing::unpack_as("nonsense", b"hsqs"),
        0
    );
    // An LZO1X block: a literal run of "abc", then the end marker.
    assert!(provisor_firmware::fuzzing::decode(
        "lzo",
        &[0x14, b'a', b'b', b'c', 0x11, 0, 0]
    ));
    assert!(!provisor_firmware::fuzzing::decode("lzo", &[0xff; 8]));
}
