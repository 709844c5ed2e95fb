//! The further formats (`scripts/build-format-images`): the weak device's tree built
//! into each by the tool Debian packages for it, unpacked file by file as it was built,
//! and scanned with the weak device's planted weaknesses found in it.

use crate::unpack::unpacked_as_built;
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

/// The weak device's default root password is found in an image of the format.
fn finds_the_weak_device(image: &std::path::Path) {
    let failing = failing(&scan(image));
    assert!(
        failing
            .iter()
            .any(|line| line.starts_with("firmware.default-password account root")),
        "{}: {failing:#?}",
        image.display()
    );
}

#[test]
fn romfs() {
    let image = formats().join("weak.romfs");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    assert_eq!(manifest["containers"][0]["format"], "romfs");
    finds_the_weak_device(&image);
}

/// A DOS disk: partition 1 holds the tree as ext2, logical partition 5 (in an extended
/// partition's EBR chain) as squashfs; both are found and opened.
#[test]
fn an_mbr_disk_with_a_logical_partition() {
    let image = formats().join("weak.mbr.img");
    let manifest = unpacked_as_built(&image, &images().join("weak/rootfs"));
    let chains: Vec<&str> = manifest["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|container| container["chain"].as_str().unwrap())
        .collect();
    assert_eq!(
        chains,
        [
            "MBR@0x0",
            "MBR@0x0 > partition-1 > ext@0x0",
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
    let chains: Vec<&str> = manifest["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|container| container["chain"].as_str().unwrap())
        .collect();
    assert_eq!(
        chains,
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
