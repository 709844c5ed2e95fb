//! YAFFS2, which Debian packages no maker of: the weak device's tree written here from
//! bytes as mkyaffs2image lays it out (object headers before their data chunks, packed
//! tags in the spare area), in four geometries: 2 KiB chunks with 64 spare bytes, 4 KiB
//! with 128 behind a bad block marker (both first extracted by Debian's `unyaffs`, which
//! finds the geometry itself, so that the layout is the real one), big-endian tags, and
//! tags inside the chunks with no spare; each unpacked by provisor file by file as built.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use crate::formats::finds_the_weak_device;
use crate::images;
use crate::unpack::unpacked_as_built;

#[derive(Clone, Copy)]
struct Layout {
    chunk: usize,
    spare: usize,
    bad_block: bool,
    big: bool,
}

impl Layout {
    fn data(&self) -> usize {
        if self.spare == 0 {
            self.chunk - 16
        } else {
            self.chunk
        }
    }
}

struct Writer {
    layout: Layout,
    out: Vec<u8>,
    next: u32,
    sequence: u32,
}

impl Writer {
    fn word(&self, value: u32) -> [u8; 4] {
        if self.layout.big {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        }
    }

    /// One page: the chunk's bytes (erased past them) and the tags.
    fn page(&mut self, bytes: &[u8], object: u32, chunk: u32, count: u32) {
        let layout = self.layout;
        let mut page = vec![0xff; layout.chunk + layout.spare];
        page[..bytes.len()].copy_from_slice(bytes);
        let tags = if layout.spare == 0 {
            layout.chunk - 16
        } else {
            layout.chunk + if layout.bad_block { 2 } else { 0 }
        };
        for (index, value) in [self.sequence, object, chunk, count]
            .into_iter()
            .enumerate()
        {
            page[tags + 4 * index..tags + 4 * index + 4].copy_from_slice(&self.word(value));
        }
        self.out.extend(page);
    }

    /// An object header: erased, then type, parent, name, mode, owners, times, size,
    /// link target.
    fn header(
        &mut self,
        kind: u32,
        parent: u32,
        name: &[u8],
        metadata: &fs::Metadata,
        size: u32,
        alias: &[u8],
    ) -> u32 {
        let id = self.next;
        self.next += 1;
        let mut header = vec![0xff; 512];
        let mut put = |at: usize, value: u32| header[at..at + 4].copy_from_slice(&self.word(value));
        put(0, kind);
        put(4, parent);
        put(268, metadata.mode());
        put(272, metadata.uid());
        put(276, metadata.gid());
        for at in [280, 284, 288] {
            put(at, metadata.mtime() as u32);
        }
        put(292, size);
        header[10..266].fill(0);
        header[10..10 + name.len()].copy_from_slice(name);
        header[300..460].fill(0);
        header[300..300 + alias.len()].copy_from_slice(alias);
        self.page(&header, id, 0, 0xffff);
        id
    }

    fn write(&mut self, directory: &Path, parent: u32) {
        let entries: BTreeMap<Vec<u8>, std::path::PathBuf> = fs::read_dir(directory)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (entry.file_name().into_encoded_bytes(), entry.path())
            })
            .collect();
        for (name, path) in entries {
            let metadata = fs::symlink_metadata(&path).unwrap();
            if metadata.file_type().is_symlink() {
                let target = fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes();
                self.header(2, parent, &name, &metadata, 0, &target);
            } else if metadata.is_dir() {
                let id = self.header(3, parent, &name, &metadata, 0, b"");
                self.write(&path, id);
            } else {
                let content = fs::read(&path).unwrap();
                let id = self.header(1, parent, &name, &metadata, content.len() as u32, b"");
                for (index, piece) in content.chunks(self.layout.data()).enumerate() {
                    self.page(piece, id, index as u32 + 1, piece.len() as u32);
                }
            }
        }
    }
}

fn write(source: &Path, layout: Layout) -> Vec<u8> {
    let mut writer = Writer {
        layout,
        out: Vec::new(),
        next: 0x100,
        sequence: 0x1000,
    };
    writer.write(source, 1);
    writer.out
}

/// Debian's unyaffs extracts the image, and the files are the tree's.
fn unyaffs_reads(image: &Path, source: &Path) {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let run = Command::new("unyaffs")
        .arg(image)
        .arg(&out)
        .output()
        .expect("unyaffs runs");
    assert!(
        run.status.success(),
        "unyaffs {}: {}",
        image.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    for relative in ["etc/shadow", "etc/passwd", "bin/busybox"] {
        assert_eq!(
            fs::read(out.join(relative)).unwrap(),
            fs::read(source.join(relative)).unwrap(),
            "unyaffs {}: {relative}",
            image.display()
        );
    }
    assert_eq!(
        fs::read_link(out.join("bin/sh")).unwrap(),
        fs::read_link(source.join("bin/sh")).unwrap()
    );
}

#[test]
fn yaffs2_in_four_geometries() {
    let source = images().join("weak/rootfs");
    let work = tempfile::tempdir().unwrap();
    let layouts = [
        (
            "2k-64",
            Layout {
                chunk: 2048,
                spare: 64,
                bad_block: false,
                big: false,
            },
            true,
        ),
        (
            "4k-128-bad-block",
            Layout {
                chunk: 4096,
                spare: 128,
                bad_block: true,
                big: false,
            },
            true,
        ),
        (
            "2k-64-be",
            Layout {
                chunk: 2048,
                spare: 64,
                bad_block: false,
                big: true,
            },
            false,
        ),
        (
            "2k-inband",
            Layout {
                chunk: 2048,
                spare: 0,
                bad_block: false,
                big: false,
            },
            false,
        ),
    ];
    for (name, layout, independent) in layouts {
        let image = work.path().join(format!("weak.{name}.yaffs2"));
        fs::write(&image, write(&source, layout)).unwrap();
        if independent {
            unyaffs_reads(&image, &source);
        }
        let manifest = unpacked_as_built(&image, &source);
        assert_eq!(manifest["containers"][0]["format"], "YAFFS2", "{name}");
    }
    finds_the_weak_device(&work.path().join("weak.2k-64.yaffs2"));
}

/// An older copy of a chunk later in the dump (a lower sequence number, as NAND holds
/// obsolete pages until their block is erased) does not replace the newer one.
#[test]
fn the_newest_copy_of_a_chunk_wins() {
    let source = images().join("weak/rootfs");
    let layout = Layout {
        chunk: 2048,
        spare: 64,
        bad_block: false,
        big: false,
    };
    let mut writer = Writer {
        layout,
        out: Vec::new(),
        next: 0x100,
        sequence: 0x1000,
    };
    writer.write(&source, 1);
    // The first data chunk of every file, again, older and scrambled.
    let pages = writer.out.len() / (layout.chunk + layout.spare);
    let mut stale = Vec::new();
    for page in 0..pages {
        let at = page * (layout.chunk + layout.spare);
        let tags = at + layout.chunk;
        if writer.out[tags + 8..tags + 12] == 1u32.to_le_bytes() {
            let mut copy = writer.out[at..at + layout.chunk + layout.spare].to_vec();
            copy[..layout.chunk].fill(b'x');
            copy[layout.chunk..layout.chunk + 4].copy_from_slice(&0x0fffu32.to_le_bytes());
            stale.extend(copy);
        }
    }
    writer.out.extend(stale);
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("stale.yaffs2");
    fs::write(&image, writer.out).unwrap();
    unpacked_as_built(&image, &source);
}

/// Writes fuzz/seeds/firmware/tiny.yaffs2 (run with `--ignored` when the writer changes).
#[test]
#[ignore = "writes the fuzz seed"]
fn write_fuzz_seed() {
    let tree = tempfile::tempdir().unwrap();
    fs::create_dir_all(tree.path().join("etc")).unwrap();
    fs::write(
        tree.path().join("etc/shadow"),
        "root:$1$abc$def:0:0:99999:7:::\n",
    )
    .unwrap();
    fs::write(tree.path().join("etc/blob"), vec![7u8; 5000]).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", tree.path().join("shadow")).unwrap();
    let layout = Layout {
        chunk: 2048,
        spare: 64,
        bad_block: false,
        big: false,
    };
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/firmware/tiny.yaffs2");
    fs::write(seed, write(tree.path(), layout)).unwrap();
}
