//! The virtual filesystem over everything unpacked from an image: one tree of absolute
//! paths with kinds, modes, owners and sizes, whose file contents are read lazily from
//! where they live (the image, a host directory, or memory). Symlinks resolve inside the
//! image only, with a bounded number of hops.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use crate::sandbox::normalize_within;

/// The most symlinks followed while resolving one path (as Linux's ELOOP limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link and its target as stored.
    Symlink(String),
    /// A device, pipe or socket.
    Special,
}

/// Where a file's bytes live.
#[derive(Clone)]
pub(crate) enum Content {
    /// No content (directories, links, specials).
    None,
    /// A range of a buffer in memory (a decompressed stream, an archive member).
    Memory(Arc<[u8]>, std::ops::Range<usize>),
    /// A file of an extracted root filesystem on the host.
    Host(PathBuf),
    /// A file inside a squashfs image.
    Squashfs(Arc<crate::unpack::Squashfs>, backhand::SquashfsFileReader),
    /// File number `.1` of a filesystem provisor decodes itself (cramfs, JFFS2, UBIFS,
    /// ext2/3/4).
    Decoded(Arc<dyn FileSource>, usize),
}

/// A filesystem whose files are decoded on demand.
pub(crate) trait FileSource: Send + Sync {
    /// Decodes file `id`, refusing more than `limit` bytes; the error says why the data
    /// is unreadable.
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String>;

    /// As [`FileSource::read`], into `out` (empty on entry): a source that can decode
    /// into the caller's memory says so here.
    fn read_into(&self, id: usize, limit: u64, out: &mut Vec<u8>) -> Result<(), String> {
        *out = self.read(id, limit)?;
        Ok(())
    }
}

impl std::fmt::Debug for Content {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Content::None => "none",
            Content::Memory(..) => "memory",
            Content::Host(_) => "host",
            Content::Squashfs(..) => "squashfs",
            Content::Decoded(..) => "decoded",
        })
    }
}

/// One entry of the virtual filesystem.
#[derive(Debug, Clone)]
pub struct Node {
    /// Absolute path inside the image (`/etc/shadow`).
    pub path: String,
    /// What it is.
    pub kind: NodeKind,
    /// Permission bits, setuid/setgid/sticky included.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (files).
    pub size: u64,
    /// The chain of containers it came from (`squashfs@0x40`), empty for a directory
    /// input.
    pub container: Arc<str>,
    pub(crate) content: Content,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// No such path, or a dangling or looping link.
    #[error("{0}: no such file in the image")]
    Missing(String),
    /// Not a regular file.
    #[error("{0}: not a regular file")]
    NotAFile(String),
    /// Larger than the caller's bound.
    #[error("{path}: {size} bytes, more than the {limit} bytes read at once")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The bound.
        limit: u64,
    },
    /// The container's data is corrupt.
    #[error("{path}: cannot be read from the image: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What the decoder said.
        reason: String,
    },
}

/// The tree of everything unpacked.
#[derive(Debug, Default)]
pub struct Vfs {
    nodes: BTreeMap<String, Node>,
    payloads: Vec<(Arc<str>, Arc<[u8]>)>,
    containers: Vec<provisor_engine::Container>,
}

impl Vfs {
    /// An empty filesystem.
    pub fn new() -> Self {
        Vfs::default()
    }

    /// Adds (or replaces) a node; parents are created as directories.
    pub(crate) fn insert(&mut self, node: Node) {
        let mut parent = node.path.as_str();
        while let Some(cut) = parent.rfind('/') {
            parent = &parent[..cut];
            let key = if parent.is_empty() { "/" } else { parent };
            if self.nodes.contains_key(key) {
                break;
            }
            self.nodes.insert(
                key.to_owned(),
                Node {
                    path: key.to_owned(),
                    kind: NodeKind::Directory,
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                    size: 0,
                    container: node.container.clone(),
                    content: Content::None,
                },
            );
        }
        self.nodes.insert(node.path.clone(), node);
    }

    /// Keeps a payload in which no container was found (a kernel, a bootloader), named
    /// by its container chain, for the checks that look inside blobs.
    pub(crate) fn add_payload(&mut self, chain: &str, data: Arc<[u8]>) {
        self.payloads.push((Arc::from(chain), data));
    }

    /// Records a container opened, with no file yet (they are counted when asked).
    pub(crate) fn add_container(&mut self, container: provisor_engine::Container) {
        self.containers.push(container);
    }

    /// The containers opened, outermost first, each with the files it put into the tree.
    pub fn containers(&self) -> Vec<provisor_engine::Container> {
        let mut counts: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for node in self.nodes.values() {
            if node.kind != NodeKind::Directory {
                *counts.entry(node.container.as_ref()).or_default() += 1;
            }
        }
        self.containers
            .iter()
            .map(|container| provisor_engine::Container {
                files: counts.get(container.chain.as_str()).copied().unwrap_or(0),
                ..container.clone()
            })
            .collect()
    }

    /// The payloads kept, with their container chains.
    pub fn payloads(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.payloads
            .iter()
            .map(|(chain, data)| (chain.as_ref(), data.as_ref()))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether nothing was unpacked.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every entry, in path order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// Regular files, in path order.
    pub fn files(&self) -> impl Iterator<Item = &Node> {
        self.nodes
            .values()
            .filter(|node| node.kind == NodeKind::File)
    }

    /// Entries directly or indirectly below a directory (not following links).
    pub fn under<'a>(&'a self, directory: &str) -> impl Iterator<Item = &'a Node> {
        let prefix = if directory.ends_with('/') {
            directory.to_owned()
        } else {
            format!("{directory}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(path, _)| path.starts_with(&prefix))
            .map(|(_, node)| node)
    }

    /// The entry at exactly this path, without following a final link.
    pub fn entry(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Resolves a path, following symlinks (in any component) inside the image.
    pub fn resolve(&self, path: &str) -> Option<&Node> {
        let mut current = normalize_within(path, "/", 4096).ok()?;
        for _ in 0..MAX_SYMLINK_HOPS {
            // Resolve the first component that is a link, then start again.
            let mut rewritten = None;
            let mut prefix = String::new();
            let components: Vec<&str> = current.split('/').filter(|c| !c.is_empty()).collect();
            for (index, component) in components.iter().enumerate() {
                prefix.push('/');
                prefix.push_str(component);
                if let Some(Node {
                    kind: NodeKind::Symlink(target),
                    ..
                }) = self.nodes.get(&prefix)
                {
                    let parent = prefix.rsplit_once('/').map_or("/", |(head, _)| head);
                    let parent = if parent.is_empty() { "/" } else { parent };
                    let mut joined = normalize_within(target, parent, 4096).ok()?;
                    for rest in &components[index + 1..] {
                        joined.push('/');
                        joined.push_str(rest);
                    }
                    rewritten = Some(normalize_within(&joined, "/", 4096).ok()?);
                    break;
                }
            }
            match rewritten {
                Some(next) => current = next,
                None => {
                    let key = if current.is_empty() { "/" } else { &current };
                    return self.nodes.get(key);
                }
            }
        }
        None
    }

    /// The container chain of the file at a path (following links), empty when unknown.
    pub fn container_of(&self, path: &str) -> String {
        self.resolve(path)
            .map_or(String::new(), |node| node.container.to_string())
    }

    /// Reads a whole file (following links), refusing one larger than `limit` bytes.
    pub fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let node = self
            .resolve(path)
            .ok_or_else(|| ReadError::Missing(path.to_owned()))?;
        self.read_node(node, limit)
    }

    /// Reads a node's content, refusing more than `limit` bytes.
    pub fn read_node(&self, node: &Node, limit: u64) -> Result<Vec<u8>, ReadError> {
        let mut bytes = Vec::new();
        self.read_node_into(node, limit, &mut bytes)?;
        Ok(bytes)
    }

    /// As [`Vfs::read_node`], into `bytes` (cleared first), whose memory is reused: a
    /// caller reading thousands of files keeps one buffer per thread instead of faulting
    /// in fresh pages for each file.
    pub fn read_node_into(
        &self,
        node: &Node,
        limit: u64,
        bytes: &mut Vec<u8>,
    ) -> Result<(), ReadError> {
        bytes.clear();
        if node.kind != NodeKind::File {
            return Err(ReadError::NotAFile(node.path.clone()));
        }
        if node.size > limit {
            return Err(ReadError::TooLarge {
                path: node.path.clone(),
                size: node.size,
                limit,
            });
        }
        let corrupt = |reason: String| ReadError::Corrupt {
            path: node.path.clone(),
            reason,
        };
        // The stated size, as far as the limit allows (a decoder may still find more).
        bytes.reserve(usize::try_from(node.size.min(limit)).unwrap_or(0));
        match &node.content {
            Content::None => {}
            Content::Memory(data, range) => {
                bytes.extend_from_slice(data.get(range.clone()).unwrap_or_default());
            }
            Content::Host(host) => {
                std::fs::File::open(host)
                    .and_then(|file| file.take(limit + 1).read_to_end(bytes))
                    .map_err(|error| corrupt(error.to_string()))?;
            }
            Content::Squashfs(image, file) => image.read(file, limit, bytes).map_err(corrupt)?,
            Content::Decoded(source, id) => {
                source.read_into(*id, limit, bytes).map_err(corrupt)?;
            }
        }
        if bytes.len() as u64 > limit {
            return Err(ReadError::TooLarge {
                path: node.path.clone(),
                size: bytes.len() as u64,
                limit,
            });
        }
        Ok(())
    }

    /// Reads a text file (lossily decoded), for configuration files.
    pub fn read_text(&self, path: &str, limit: u64) -> Result<String, ReadError> {
        self.read(path, limit)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A filesystem from (path, content) pairs; a content starting with `->` is a link.
    pub(crate) fn fs(entries: &[(&str, &str)]) -> Vfs {
        let mut vfs = Vfs::new();
        for (path, content) in entries {
            let (kind, content, size) = match content.strip_prefix("->") {
                Some(target) => (NodeKind::Symlink(target.to_owned()), Content::None, 0),
                None => (
                    NodeKind::File,
                    Content::Memory(Arc::from(content.as_bytes()), 0..content.len()),
                    content.len() as u64,
                ),
            };
            vfs.insert(Node {
                path: (*path).to_owned(),
                kind,
                mode: 0o644,
                uid: 0,
                gid: 0,
                size,
                container: Arc::from(""),
                content,
            });
        }
        vfs
    }

    #[test]
    fn links_resolve_inside_the_image() {
        let vfs = fs(&[
            ("/etc/real", "data"),
            ("/etc/relative", "->real"),
            ("/etc/absolute", "->/etc/real"),
            ("/etc/escape", "->../../../../etc/real"),
            ("/lib", "->usr/lib"),
            ("/usr/lib/libc.so", "elf"),
            ("/loop/a", "->b"),
            ("/loop/b", "->a"),
            ("/dangling", "->/nowhere"),
        ]);
        assert_eq!(vfs.read("/etc/relative", 100).unwrap(), b"data");
        assert_eq!(vfs.read("/etc/absolute", 100).unwrap(), b"data");
        assert_eq!(vfs.read("/etc/escape", 100).unwrap(), b"data");
        assert_eq!(vfs.read("/lib/libc.so", 100).unwrap(), b"elf");
        assert!(matches!(
            vfs.read("/loop/a", 100),
            Err(ReadError::Missing(_))
        ));
        assert!(matches!(
            vfs.read("/dangling", 100),
            Err(ReadError::Missing(_))
        ));
        assert!(matches!(
            vfs.read("/etc/real", 2),
            Err(ReadError::TooLarge { .. })
        ));
        assert_eq!(vfs.under("/etc").count(), 4);
        assert_eq!(vfs.entry("/usr").unwrap().kind, NodeKind::Directory);
    }
}
