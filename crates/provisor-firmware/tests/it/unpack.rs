//! `unpack_to`: what a scan sees written into a directory, checked file by file against
//! the root filesystem the test image was built from (an independent source: the
//! directory `scripts/build-test-images` packed), and hostile archives that try to write
//! outside it, through a link, or make devices and set-uid files.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::images;

fn options() -> provisor_firmware::ScanOptions {
    provisor_firmware::ScanOptions {
        tool_version: "test".into(),
        ..Default::default()
    }
}

fn manifest_of(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(out.join(provisor_firmware::MANIFEST)).unwrap()).unwrap()
}

/// Every file, directory and link under `root`, relative to it.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            let metadata = fs::symlink_metadata(&path).unwrap();
            if metadata.is_dir() {
                pending.push(path.clone());
            }
            found.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
    found.sort();
    found
}

/// Unpacks `image` and checks the output against the tree it was built from: every
/// regular file has the same bytes, every link leads to the same place (relative, inside
/// the output), no set-uid bit is on disk. Returns the output's manifest.
pub fn unpacked_as_built(image: &Path, source: &Path) -> serde_json::Value {
    compare_unpacked(image, source, true)
}

/// As [`unpacked_as_built`], for a format that keeps no links (FAT): the tree's links
/// are not looked for.
pub fn unpacked_as_built_but_links(image: &Path, source: &Path) -> serde_json::Value {
    compare_unpacked(image, source, false)
}

fn compare_unpacked(image: &Path, source: &Path, links: bool) -> serde_json::Value {
    let name = image.display().to_string();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("unpacked");
    let manifest = provisor_firmware::unpack_to(image, &out, &options())
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let mut compared = 0;
    for relative in walk(source) {
        let original = source.join(&relative);
        let unpacked = out.join(&relative);
        let metadata = fs::symlink_metadata(&original).unwrap();
        if metadata.file_type().is_symlink() && !links {
            continue;
        } else if metadata.file_type().is_symlink() {
            let target = fs::read_link(&original).unwrap();
            let written = fs::read_link(&unpacked)
                .unwrap_or_else(|error| panic!("{name}: {}: {error}", relative.display()));
            assert!(written.is_relative(), "{}", written.display());
            // The link leads where it led: resolve both textually from the root.
            assert_eq!(
                resolve(&relative, &written),
                resolve(&relative, &target),
                "{name}: {}",
                relative.display()
            );
        } else if metadata.is_file() {
            assert_eq!(
                fs::read(&unpacked)
                    .unwrap_or_else(|error| panic!("{name}: {}: {error}", relative.display())),
                fs::read(&original).unwrap(),
                "{name}: {}",
                relative.display()
            );
            compared += 1;
        }
    }
    assert!(compared > 50, "{name}: {compared}");
    for relative in walk(&out) {
        let metadata = fs::symlink_metadata(out.join(&relative)).unwrap();
        assert_eq!(
            metadata.mode() & 0o7000,
            0,
            "{name}: {} keeps a set-uid bit",
            relative.display()
        );
    }
    let written = manifest_of(&out);
    assert_eq!(written["schema"], provisor_firmware::MANIFEST_SCHEMA);
    assert_eq!(
        written["containers"].as_array().unwrap().len(),
        manifest.containers.len()
    );
    assert!(!manifest.containers.is_empty(), "{name}");
    let shadow = written["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["path"] == "/etc/shadow")
        .unwrap_or_else(|| panic!("{name}: no /etc/shadow in the manifest"))
        .clone();
    assert_eq!(
        shadow["sha256"].as_str().unwrap(),
        Sha256::digest(fs::read(source.join("etc/shadow")).unwrap())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    );
    assert_eq!(shadow["written"], "etc/shadow");
    assert_eq!(
        shadow["container"].as_str().unwrap(),
        manifest.containers.last().unwrap().chain,
        "{name}"
    );
    written
}

/// The weak device's images in three formats unpacked as built; the manifest lists the
/// container and each entry's SHA-256 and mode as stored (a set-uid program with its
/// bits, written without them).
#[test]
fn an_image_unpacks_file_by_file_as_it_was_built() {
    let source = images().join("weak/rootfs");
    for image in [
        "weak/weak.xz.squashfs",
        "weak/weak.cpio.gz",
        "weak/weak.ext4",
    ] {
        let written = unpacked_as_built(&images().join(image), &source);
        let setuid = written["entries"].as_array().unwrap().iter().find(|entry| {
            u32::from_str_radix(entry["mode"].as_str().unwrap(), 8).unwrap() & 0o4000 != 0
        });
        if let Some(entry) = setuid {
            assert!(
                entry["note"].as_str().unwrap_or("").contains("set-uid"),
                "{entry}"
            );
        }
    }
}

/// Where `target`, a link at `link` (relative to the root), leads: a path relative to
/// the root, `..` stopping there.
fn resolve(link: &Path, target: &Path) -> PathBuf {
    let mut parts: Vec<String> = if target.is_absolute() {
        Vec::new()
    } else {
        link.parent()
            .map(|parent| {
                parent
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for part in target.components() {
        match part {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.iter().collect()
}

/// A tar that plants a link out of the image and a file "through" it, a device node, a
/// set-uid shell and an entry named like provisor's manifest: nothing leaves the
/// directory, no device or set-uid file is made, and the manifest is provisor's.
#[test]
fn a_hostile_archive_cannot_write_outside_or_make_devices() {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let mut archive = tar::Builder::new(Vec::new());
    let mut add = |name: &str, kind: tar::EntryType, mode: u32, link: Option<&str>, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        if let Some(link) = link {
            header.set_link_name(link).unwrap();
        }
        header.set_path(name).unwrap();
        header.set_cksum();
        archive.append(&header, data).unwrap();
    };
    let escape = format!("/../../../../../../..{}", outside.display());
    add(
        "etc/out",
        tar::EntryType::Symlink,
        0o777,
        Some(&escape),
        b"",
    );
    add(
        "etc/out/planted",
        tar::EntryType::Regular,
        0o644,
        None,
        b"planted\n",
    );
    add("dev/console", tar::EntryType::Char, 0o600, None, b"");
    add(
        "bin/sh",
        tar::EntryType::Regular,
        0o4755,
        None,
        b"#!/bin/sh\n",
    );
    add(
        provisor_firmware::MANIFEST,
        tar::EntryType::Regular,
        0o644,
        None,
        b"{}",
    );
    add(
        "etc/inittab",
        tar::EntryType::Regular,
        0o644,
        None,
        b"::respawn:/usr/sbin/telnetd -F\n",
    );
    let image = work.path().join("hostile.tar");
    fs::write(&image, archive.into_inner().unwrap()).unwrap();

    let out = work.path().join("unpacked");
    provisor_firmware::unpack_to(&image, &out, &options()).unwrap();
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing lands outside"
    );
    // The file was written where the image has it, in a real directory; the link that
    // would have been that directory is not made.
    assert!(fs::symlink_metadata(out.join("etc/out")).unwrap().is_dir());
    assert_eq!(fs::read(out.join("etc/out/planted")).unwrap(), b"planted\n");
    assert!(!out.join("dev/console").exists());
    let shell = fs::metadata(out.join("bin/sh")).unwrap();
    assert_eq!(shell.permissions().mode() & 0o7777, 0o755);
    let manifest = manifest_of(&out);
    assert_eq!(manifest["schema"], provisor_firmware::MANIFEST_SCHEMA);
    let entry = |path: &str| {
        manifest["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["path"] == path)
            .unwrap_or_else(|| panic!("{path} is not in {manifest:#}"))
            .clone()
    };
    assert_eq!(entry("/dev/console")["kind"], "special");
    assert!(entry("/dev/console")["written"].is_null());
    assert_eq!(entry("/bin/sh")["mode"], "4755");
    assert!(
        entry("/etc/out")["note"]
            .as_str()
            .unwrap()
            .contains("not created")
    );
    let own = entry(&format!("/{}", provisor_firmware::MANIFEST));
    assert!(
        own["note"]
            .as_str()
            .unwrap()
            .contains("provisor's own output"),
        "{own}"
    );
    // Nothing was left beside the output.
    let siblings: Vec<String> = fs::read_dir(work.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(siblings.len(), 3, "{siblings:?}");
}

/// A directory that holds something is refused and left as it was; an empty one is
/// filled; an unreadable image writes nothing.
#[test]
fn an_output_that_holds_files_is_refused_and_untouched() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("busy");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let image = images().join("weak/weak.cpio.gz");
    let error = provisor_firmware::unpack_to(&image, &out, &options()).unwrap_err();
    assert!(
        error.to_string().contains("not an empty directory"),
        "{error}"
    );
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(fs::read(out.join("notes.txt")).unwrap(), b"mine");

    let empty = work.path().join("empty");
    fs::create_dir(&empty).unwrap();
    provisor_firmware::unpack_to(&image, &empty, &options()).unwrap();
    assert!(empty.join("etc/inittab").exists());

    let missing = work.path().join("nothing");
    let error =
        provisor_firmware::unpack_to(&work.path().join("no-such.bin"), &missing, &options())
            .unwrap_err();
    assert!(error.to_string().contains("no-such.bin"), "{error}");
    assert!(!missing.exists());
    let names: Vec<String> = fs::read_dir(work.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|name| !name.contains(".provisor-")),
        "{names:?}"
    );
}
