//! The one place where paths and sizes taken from an image are admitted. A path is
//! normalized inside the image root (`..` never climbs above it, absolute paths are
//! rooted in the image), and every admitted file counts against the limits.

use std::fmt;

/// Bounds on what an image may unpack to. The defaults handle a 256 MB image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes of all files unpacked.
    pub max_total_bytes: u64,
    /// Number of filesystem entries.
    pub max_files: usize,
    /// Containers nested in containers (`uImage > squashfs > cpio`).
    pub max_nesting: usize,
    /// Unpacked bytes per byte of image.
    pub max_expansion_ratio: u64,
    /// Path components of one path.
    pub max_path_depth: usize,
    /// Largest single file a check reads whole.
    pub max_file_read: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 4 << 30,
            max_files: 500_000,
            max_nesting: 8,
            max_expansion_ratio: 100,
            max_path_depth: 64,
            max_file_read: 64 << 20,
        }
    }
}

/// Why the sandbox refused something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The path is empty, has a NUL byte or too many components.
    BadPath(String),
    /// A limit was reached.
    Limit(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BadPath(why) | Refusal::Limit(why) => formatter.write_str(why),
        }
    }
}

/// Accounts for everything unpacked from one image.
#[derive(Debug, Clone)]
pub struct Sandbox {
    limits: Limits,
    image_bytes: u64,
    total_bytes: u64,
    files: usize,
    searches: usize,
}

/// Costly searches (trying every LZMA property set on a filesystem's first block) one
/// image may ask for: a hostile image full of fake superblocks must not keep the
/// unpacker busy for hours.
const MAX_SEARCHES: usize = 32;

impl Sandbox {
    /// A sandbox for an image of `image_bytes` bytes.
    pub fn new(limits: Limits, image_bytes: u64) -> Self {
        Sandbox {
            limits,
            image_bytes,
            total_bytes: 0,
            files: 0,
            searches: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Normalizes an archive-supplied path to an absolute path inside the image root.
    pub fn normalize(&self, path: &str) -> Result<String, Refusal> {
        normalize_within(path, "/", self.limits.max_path_depth)
    }

    /// Admits one entry of `size` bytes, or refuses it when a limit would be passed.
    pub fn admit(&mut self, size: u64) -> Result<(), Refusal> {
        if self.files >= self.limits.max_files {
            return Err(Refusal::Limit(format!(
                "more than {} files",
                self.limits.max_files
            )));
        }
        let total = self.total_bytes.saturating_add(size);
        if total > self.limits.max_total_bytes {
            return Err(Refusal::Limit(format!(
                "more than {} bytes unpacked",
                self.limits.max_total_bytes
            )));
        }
        let ratio_cap = self
            .image_bytes
            .max(1 << 20)
            .saturating_mul(self.limits.max_expansion_ratio);
        if total > ratio_cap {
            return Err(Refusal::Limit(format!(
                "expansion beyond {}× the image size (a decompression bomb?)",
                self.limits.max_expansion_ratio
            )));
        }
        self.files += 1;
        self.total_bytes = total;
        Ok(())
    }

    /// How many more bytes a decompressor may produce: what is left of the total and of
    /// the expansion allowance.
    pub fn budget(&self) -> u64 {
        let ratio_cap = self
            .image_bytes
            .max(1 << 20)
            .saturating_mul(self.limits.max_expansion_ratio);
        self.limits
            .max_total_bytes
            .min(ratio_cap)
            .saturating_sub(self.total_bytes)
    }

    /// Takes one costly search from the image's allowance; false once it is spent.
    pub fn allow_search(&mut self) -> bool {
        self.searches += 1;
        self.searches <= MAX_SEARCHES
    }

    /// Bytes admitted so far.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Entries admitted so far.
    pub fn files(&self) -> usize {
        self.files
    }
}

/// Joins `path` to `base` (both inside the image) and normalizes the result: `.` and
/// empty components vanish, `..` climbs at most to the root.
pub fn normalize_within(path: &str, base: &str, max_depth: usize) -> Result<String, Refusal> {
    if path.contains('\0') {
        return Err(Refusal::BadPath("path contains a NUL byte".into()));
    }
    let mut components: Vec<&str> = Vec::new();
    let start = if path.starts_with('/') { "" } else { base };
    for component in start.split('/').chain(path.split('/')) {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            other => components.push(other),
        }
        if components.len() > max_depth {
            return Err(Refusal::BadPath(format!(
                "path deeper than {max_depth} components"
            )));
        }
    }
    Ok(format!("/{}", components.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_root() {
        let sandbox = Sandbox::new(Limits::default(), 1000);
        assert_eq!(
            sandbox.normalize("../../etc/passwd").unwrap(),
            "/etc/passwd"
        );
        assert_eq!(sandbox.normalize("/a/./b//../c").unwrap(), "/a/c");
        assert_eq!(sandbox.normalize("").unwrap(), "/");
        assert!(sandbox.normalize("a\0b").is_err());
        assert_eq!(
            normalize_within("../x", "/etc/init.d", 64).unwrap(),
            "/etc/x"
        );
        let deep = "a/".repeat(100);
        assert!(sandbox.normalize(&deep).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_files: 2,
            ..Limits::default()
        };
        let mut sandbox = Sandbox::new(limits, 1000);
        sandbox.admit(10).unwrap();
        sandbox.admit(10).unwrap();
        assert!(sandbox.admit(10).is_err());
        let mut bomb = Sandbox::new(Limits::default(), 1 << 20);
        assert!(
            bomb.admit(200 << 20).is_err(),
            "200 MiB out of 1 MiB is a bomb"
        );
    }
}
