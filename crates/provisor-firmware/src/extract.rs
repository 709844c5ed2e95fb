//! `provisor unpack`: writes every file a scan sees into a directory for a person to look
//! at, with `provisor-manifest.json` beside them: the containers opened (format, offset,
//! size, parent), every entry with its kind, mode, owner, container, size and SHA-256,
//! and what could not be unpacked. The directory is written as a sibling and renamed
//! into place when complete, so it is whole or absent.
//!
//! Nothing leaves the directory and nothing on disk gives more rights than a person
//! needs to read it: paths come from the sandbox (absolute, normalized, no `..`), files
//! are created new (never through an existing link), links are created last and
//! rewritten to relative paths that resolve inside the directory as they would inside
//! the image (`..` stops at its root, as in a chroot), devices, pipes and sockets are
//! listed but not created, and set-uid, set-gid and sticky bits are listed but not set.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use provisor_engine::{Container, FindingSink, Target};
use rayon::prelude::*;
use serde::Serialize;

use crate::scan::{PendingDigest, ScanError, ScanOptions, open_input};
use crate::unpack::UNPACK_CHECK;
use crate::vfs::{Node, NodeKind, Vfs};

/// The manifest's file name in the output directory.
pub const MANIFEST: &str = "provisor-manifest.json";
/// The manifest's schema.
pub const MANIFEST_SCHEMA: &str = "provisor.unpack/1";
/// The directory, in the output, of payloads that held no container (a kernel).
pub const PAYLOADS: &str = "provisor-payloads";

/// Why nothing was unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// The image cannot be read.
    #[error(transparent)]
    Input(#[from] ScanError),
    /// The output directory holds something already.
    #[error(
        "{path} already exists and is not an empty directory: unpack into a new or empty directory"
    )]
    NotEmpty {
        /// The output directory.
        path: String,
    },
    /// Writing failed (nothing is left behind).
    #[error("cannot write {path}: {reason}")]
    Write {
        /// What could not be written.
        path: String,
        /// Why.
        reason: String,
    },
}

/// `provisor-manifest.json`: what was unpacked, from where.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: &'static str,
    /// The image: its path, size and SHA-256.
    pub image: Target,
    /// The containers opened, outermost first.
    pub containers: Vec<Container>,
    /// Every entry of the root filesystem, in path order.
    pub entries: Vec<Entry>,
    /// Payloads that held no container, written under [`PAYLOADS`].
    pub payloads: Vec<Payload>,
    /// What could not be unpacked.
    pub problems: Vec<Problem>,
}

/// One entry of the root filesystem.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// Its absolute path in the image.
    pub path: String,
    /// `file`, `directory`, `symlink` or `special`.
    pub kind: &'static str,
    /// Its mode as the image stores it, in octal (set-uid bits included).
    pub mode: String,
    /// Its owner.
    pub uid: u32,
    /// Its group.
    pub gid: u32,
    /// Its size (files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Its contents' SHA-256 (files written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Its target as the image stores it (links).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The chain of containers it came from.
    pub container: String,
    /// Where it was written, relative to the output directory; none when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
    /// What was not written as the image has it, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A payload that held no container.
#[derive(Debug, Serialize)]
pub struct Payload {
    /// Its container chain.
    pub chain: String,
    /// Where it was written, relative to the output directory.
    pub written: String,
    /// Its size.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
}

/// Something that could not be unpacked.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// What.
    pub title: String,
    /// Why.
    pub detail: String,
    /// Where (its container chain and offset), when known.
    pub evidence: serde_json::Value,
}

/// Unpacks `input` (an image, or a directory holding a root filesystem) into `out`,
/// which must not exist or be empty (its parent is made when missing); returns the
/// manifest it wrote there.
pub fn unpack_to(input: &Path, out: &Path, options: &ScanOptions) -> Result<Manifest, UnpackError> {
    let replace_empty = match fs::symlink_metadata(out) {
        Ok(metadata) if metadata.is_dir() => {
            let mut listing = fs::read_dir(out).map_err(cannot_write(out))?;
            if listing.next().is_some() {
                return Err(UnpackError::NotEmpty {
                    path: out.display().to_string(),
                });
            }
            true
        }
        Ok(_) => {
            return Err(UnpackError::NotEmpty {
                path: out.display().to_string(),
            });
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
        Err(error) => return Err(cannot_write(out)(error)),
    };
    let name = out.file_name().ok_or_else(|| UnpackError::Write {
        path: out.display().to_string(),
        reason: "not a directory name".into(),
    })?;
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (vfs, sink, target, digest) = open_input(input, options)?;
    // The output's parent is made as `mkdir -p` would.
    fs::create_dir_all(&parent).map_err(cannot_write(&parent))?;
    let stage = parent.join(format!(
        ".{}.provisor-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    fs::create_dir(&stage).map_err(cannot_write(&stage))?;
    let written = write_tree(&vfs, &sink, (target, digest), &stage, options);
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = fs::remove_dir_all(&stage);
            return Err(error);
        }
    };
    let placed = (|| {
        if replace_empty {
            fs::remove_dir(out)?;
        }
        fs::rename(&stage, out)
    })();
    if let Err(error) = placed {
        let _ = fs::remove_dir_all(&stage);
        return Err(cannot_write(out)(error));
    }
    Ok(manifest)
}

/// The path of an image's entry relative to the output directory: its components,
/// none empty, `.` or `..` (the sandbox gives no such path; this holds if it ever did).
fn relative(path: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if parts
        .iter()
        .any(|part| part.is_empty() || *part == "." || *part == ".." || part.contains('\0'))
    {
        return None;
    }
    Some(parts.iter().collect())
}

/// Where a link at `link` (an absolute path in the image) to `target` leads, as a path
/// relative to the link's directory that stays inside the output: resolved as inside the
/// image, where `..` stops at the root. None for an empty target.
pub(crate) fn link_within(link: &str, target: &str) -> Option<String> {
    if target.is_empty() {
        return None;
    }
    let directory: Vec<&str> = link
        .trim_start_matches('/')
        .split('/')
        .filter(|part| !part.is_empty())
        .collect();
    let directory = &directory[..directory.len().saturating_sub(1)];
    let mut resolved: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        directory.to_vec()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                resolved.pop();
            }
            part => resolved.push(part),
        }
    }
    let common = directory
        .iter()
        .zip(&resolved)
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative: Vec<&str> = vec![".."; directory.len() - common];
    relative.extend(&resolved[common..]);
    if relative.is_empty() {
        return Some(".".to_owned());
    }
    Some(relative.join("/"))
}

fn kind_name(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::File => "file",
        NodeKind::Directory => "directory",
        NodeKind::Symlink(_) => "symlink",
        NodeKind::Special => "special",
    }
}

/// The error of a write to `path` that failed.
fn cannot_write(path: &Path) -> impl Fn(std::io::Error) -> UnpackError + '_ {
    move |error| UnpackError::Write {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

fn entry_of(node: &Node) -> Entry {
    Entry {
        path: node.path.clone(),
        kind: kind_name(&node.kind),
        mode: format!("{:04o}", node.mode & 0o7777),
        uid: node.uid,
        gid: node.gid,
        size: (node.kind == NodeKind::File).then_some(node.size),
        sha256: None,
        link: match &node.kind {
            NodeKind::Symlink(target) => Some(target.clone()),
            _ => None,
        },
        container: node.container.to_string(),
        written: None,
        note: None,
    }
}

/// A name for a payload's file from its container chain: letters, digits and `.-_@`.
fn payload_name(chain: &str) -> String {
    let name: String = chain
        .replace(" > ", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_matches('_');
    let name = if name.is_empty() { "image" } else { name };
    format!("{}.bin", &name[..name.len().min(200)])
}

/// Writes the tree of `vfs` under `stage` and the manifest beside it.
/// What writing one file gave.
enum Written {
    /// It could not be read or created (a note on its entry).
    Refused(String),
    File {
        sha256: String,
        shown: String,
    },
}

/// Decodes a file, creates it new (never through an entry already there) and writes it
/// with the image's permission bits and reading and writing for the person unpacking;
/// never set-uid, set-gid or sticky.
fn write_file(
    vfs: &Vfs,
    node: &Node,
    on_disk: &Path,
    shown: &str,
    options: &ScanOptions,
) -> Result<Written, UnpackError> {
    thread_local! {
        // Each thread decodes into one buffer: fresh memory for each of thousands of
        // files costs more in page faults than the copying does.
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    // Taken out for the write, not borrowed across it: while a large file's blocks are
    // decoded in parallel this thread may run another file's write (work stealing),
    // which then starts from an empty buffer.
    let mut bytes = BUFFER.take();
    let written = write_from(vfs, node, on_disk, shown, options, &mut bytes);
    // A buffer kept between files holds at most a few large blocks' worth.
    if bytes.capacity() <= KEPT_BUFFER {
        BUFFER.set(bytes);
    }
    written
}

/// The largest buffer a thread keeps between two files.
const KEPT_BUFFER: usize = 16 << 20;

fn write_from(
    vfs: &Vfs,
    node: &Node,
    on_disk: &Path,
    shown: &str,
    options: &ScanOptions,
    bytes: &mut Vec<u8>,
) -> Result<Written, UnpackError> {
    let opened = vfs
        .read_node_into(node, options.limits.max_total_bytes, bytes)
        .map_err(|error| error.to_string())
        .and_then(|()| {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(on_disk)
                .map_err(|error| error.to_string())
        });
    let mut file = match opened {
        Ok(file) => file,
        Err(reason) => return Ok(Written::Refused(reason)),
    };
    file.write_all(bytes).map_err(cannot_write(on_disk))?;
    let mode = (node.mode & 0o777) | 0o600;
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(cannot_write(on_disk))?;
    Ok(Written::File {
        sha256: provisor_engine::sha256_hex(bytes),
        shown: shown.to_owned(),
    })
}

fn write_tree(
    vfs: &Vfs,
    sink: &FindingSink,
    (mut target, digest): (Target, PendingDigest),
    stage: &Path,
    options: &ScanOptions,
) -> Result<Manifest, UnpackError> {
    let mut entries = Vec::new();
    let mut links = Vec::new();
    let mut directories = Vec::new();
    let mut files = Vec::new();
    // The directories made so far: most files share their parent with the file before.
    let mut made: HashSet<PathBuf> = HashSet::new();
    let mut make = |directory: &Path| -> Result<(), UnpackError> {
        if !made.contains(directory) {
            fs::create_dir_all(directory).map_err(cannot_write(directory))?;
            made.insert(directory.to_owned());
        }
        Ok(())
    };
    for node in vfs.nodes() {
        if node.path == "/" {
            continue;
        }
        let mut entry = entry_of(node);
        let Some(relative) = relative(&node.path) else {
            entry.note = Some("not a path inside the image: not written".into());
            entries.push(entry);
            continue;
        };
        let on_disk = stage.join(&relative);
        let shown = relative.display().to_string();
        match &node.kind {
            NodeKind::Directory => {
                make(&on_disk)?;
                directories.push((on_disk, node.mode));
                entry.written = Some(shown);
            }
            NodeKind::File => {
                if let Some(parent) = on_disk.parent() {
                    make(parent)?;
                }
                files.push((entries.len(), node, on_disk, shown));
            }
            NodeKind::Symlink(target) => links.push((entries.len(), on_disk, target.clone())),
            NodeKind::Special => {
                entry.note = Some("a device, pipe or socket: listed, not created".into());
            }
        }
        entries.push(entry);
    }
    // Files are decoded, written and hashed on every core, in the order the image
    // lists them: neighbours share fragment blocks, which a decoder keeps for a while
    // (sorted largest first, the xz image took half as long again).
    let written: Vec<(usize, u32, Result<Written, UnpackError>)> = files
        .par_iter()
        .map(|(at, node, on_disk, shown)| {
            (
                *at,
                node.mode,
                write_file(vfs, node, on_disk, shown, options),
            )
        })
        .collect();
    for (at, mode, result) in written {
        let entry = &mut entries[at];
        match result? {
            Written::Refused(reason) => entry.note = Some(format!("not written: {reason}")),
            Written::File { sha256, shown } => {
                entry.sha256 = Some(sha256);
                entry.written = Some(shown);
                if mode & 0o7000 != 0 {
                    entry.note = Some("set-uid, set-gid or sticky bits are not set on disk".into());
                }
            }
        }
    }
    // Links last, so that no file is written through one.
    for (at, on_disk, target) in links {
        let entry = &mut entries[at];
        let Some(within) = link_within(&entry.path, &target) else {
            entry.note = Some("an empty link: not created".into());
            continue;
        };
        if let Some(parent) = on_disk.parent() {
            make(parent)?;
        }
        match std::os::unix::fs::symlink(&within, &on_disk) {
            Ok(()) => {
                entry.written = relative(&entry.path).map(|path| path.display().to_string());
                if within != target {
                    entry.note = Some(format!(
                        "points to {within} on disk, which leads where it leads in the image"
                    ));
                }
            }
            Err(error) => entry.note = Some(format!("not created: {error}")),
        }
    }
    // Directories get their modes once everything is in them, deepest first; the person
    // keeps the right to enter and list them.
    for (directory, mode) in directories.iter().rev() {
        let mode = (mode & 0o777) | 0o700;
        fs::set_permissions(directory, fs::Permissions::from_mode(mode))
            .map_err(cannot_write(directory))?;
    }
    let mut payloads = Vec::new();
    let directory = stage.join(PAYLOADS);
    if vfs.payloads().next().is_some() {
        reclaim(&directory, &mut entries).map_err(cannot_write(&directory))?;
        fs::create_dir(&directory).map_err(cannot_write(&directory))?;
    }
    for (chain, data) in vfs.payloads() {
        let mut name = payload_name(chain);
        let mut number = 1;
        while directory.join(&name).exists() {
            number += 1;
            name = format!(
                "{}-{number}.bin",
                payload_name(chain).trim_end_matches(".bin")
            );
        }
        let path = directory.join(&name);
        fs::write(&path, data).map_err(cannot_write(&path))?;
        payloads.push(Payload {
            chain: chain.to_owned(),
            written: format!("{PAYLOADS}/{name}"),
            size: data.len() as u64,
            sha256: provisor_engine::sha256_hex(data),
        });
    }
    let problems = sink
        .findings()
        .iter()
        .filter(|finding| finding.check == UNPACK_CHECK)
        .map(|finding| Problem {
            title: finding.title.clone(),
            detail: finding.detail.clone(),
            evidence: finding.evidence.clone(),
        })
        .collect();
    let path = stage.join(MANIFEST);
    reclaim(&path, &mut entries).map_err(cannot_write(&path))?;
    digest.complete(&mut target)?;
    let manifest = Manifest {
        schema: MANIFEST_SCHEMA,
        image: target,
        containers: vfs.containers(),
        entries,
        payloads,
        problems,
    };
    let text = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    fs::write(&path, format!("{text}\n")).map_err(cannot_write(&path))?;
    Ok(manifest)
}

/// Makes room for one of provisor's own names (the manifest, the payloads' directory)
/// where the image put an entry of that name: the entry is removed from disk and its
/// line in the manifest says so.
fn reclaim(path: &Path, entries: &mut [Entry]) -> std::io::Result<()> {
    let Ok(metadata) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    if metadata.is_dir() {
        fs::remove_dir_all(path)?;
    } else {
        fs::remove_file(path)?;
    }
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!("/{name}");
    for entry in entries.iter_mut() {
        if entry.path == prefix || entry.path.starts_with(&format!("{prefix}/")) {
            entry.written = None;
            entry.sha256 = None;
            entry.note = Some(format!(
                "not kept: {name} is the name of provisor's own output"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lead_where_they_lead_in_the_image_and_never_out() {
        for (link, target, expected) in [
            ("/bin/sh", "busybox", "busybox"),
            ("/bin/sh", "/bin/busybox", "busybox"),
            (
                "/usr/lib/libc.so",
                "../../lib/libc.so.6",
                "../../lib/libc.so.6",
            ),
            ("/etc/resolv.conf", "/tmp/resolv.conf", "../tmp/resolv.conf"),
            ("/usr/bin/ls", "/bin/busybox", "../../bin/busybox"),
            // Out of the root stops at the root, as in a chroot.
            ("/a/evil", "../../../../etc/passwd", "../etc/passwd"),
            ("/evil", "/../../../root", "root"),
            ("/a/b/c", "./../x/./y", "../x/y"),
            ("/a/b/up", "..", ".."),
            ("/top", "/", "."),
        ] {
            assert_eq!(
                link_within(link, target).as_deref(),
                Some(expected),
                "{link} -> {target}"
            );
        }
        assert_eq!(link_within("/x", ""), None);
    }

    #[test]
    fn paths_with_dots_or_empty_parts_are_not_written() {
        assert_eq!(relative("/etc/shadow"), Some(PathBuf::from("etc/shadow")));
        for bad in ["/a/../b", "/a//b", "/./a", "/a/\0"] {
            assert_eq!(relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn payload_names_are_plain() {
        assert_eq!(
            payload_name("uImage@0x0 > lzma@0x40"),
            "uImage@0x0-lzma@0x40.bin"
        );
        assert_eq!(payload_name("../../x"), ".._.._x.bin");
    }
}
