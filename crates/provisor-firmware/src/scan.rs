//! A whole firmware scan: read the input (an image file or an extracted root directory),
//! unpack it into the sandboxed virtual filesystem, run every check, and return the
//! `provisor.findings/2` document.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use provisor_engine::{FindingsFile, Target};
use sha2::{Digest, Sha256};

use crate::checks::{self, Context};
use crate::sandbox::{Limits, Sandbox};
use crate::unpack;
use crate::vfs::Vfs;
use provisor_engine::FindingSink;

/// Told what the scan is doing: a stage name, steps done and steps in all.
pub type Progress = Arc<dyn Fn(&str, usize, usize) + Send + Sync>;

/// How to scan.
#[derive(Clone, Default)]
pub struct ScanOptions {
    /// Limits of the sandbox.
    pub limits: Limits,
    /// The version written into the findings document.
    pub tool_version: String,
    /// Called as the scan advances (for a progress bar).
    pub progress: Option<Progress>,
    /// Advisories to match the components against (`provisor advisories import`).
    pub advisories: Option<std::sync::Arc<provisor_advisories::Database>>,
}

impl std::fmt::Debug for ScanOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ScanOptions")
            .field("limits", &self.limits)
            .field("tool_version", &self.tool_version)
            .finish_non_exhaustive()
    }
}

/// Why a scan could not start.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The input cannot be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The input.
        path: String,
        /// Why.
        reason: String,
    },
    /// The input is larger than the sandbox accepts.
    #[error("{path} is {size} bytes; images over {limit} bytes are refused")]
    TooLarge {
        /// The input.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// Tells the caller's progress callback, if any, where the scan is.
fn tell(options: &ScanOptions, stage: &str, done: usize, total: usize) {
    if let Some(progress) = &options.progress {
        progress(stage, done, total);
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Scans an image file or an extracted root filesystem directory.
pub fn scan(input: &Path, options: &ScanOptions) -> Result<FindingsFile, ScanError> {
    let started = Instant::now();
    tell(options, "unpacking", 0, checks::all().len() + 1);
    let (vfs, sink, target, digest) = open_input(input, options)?;
    let mut document = analyse(&vfs, sink, target, options, started);
    digest.complete(&mut document.target)?;
    Ok(document)
}

/// The image's SHA-256, taken on another thread from the moment the image is opened
/// while it is unpacked and its files are read; none for a directory.
pub(crate) struct PendingDigest {
    path: String,
    thread: Option<std::thread::JoinHandle<std::io::Result<String>>>,
}

impl PendingDigest {
    /// Waits for the digest and sets it on the target.
    pub(crate) fn complete(self, target: &mut Target) -> Result<(), ScanError> {
        let Some(thread) = self.thread else {
            return Ok(());
        };
        match thread.join() {
            Ok(digest) => {
                target.sha256 = Some(digest.map_err(|error| ScanError::Unreadable {
                    path: self.path,
                    reason: error.to_string(),
                })?);
                Ok(())
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Reads the input into the virtual filesystem: a directory as an extracted root
/// filesystem, a file as an image unpacked where it lies (it stays on disk: unpackers
/// read the ranges they need). What could not be unpacked is in the sink.
pub(crate) fn open_input(
    input: &Path,
    options: &ScanOptions,
) -> Result<(Vfs, FindingSink, Target, PendingDigest), ScanError> {
    let display = input.display().to_string();
    let mut digest = PendingDigest {
        path: display.clone(),
        thread: None,
    };
    let unreadable = |reason: String| ScanError::Unreadable {
        path: display.clone(),
        reason,
    };
    let metadata = std::fs::metadata(input).map_err(|error| unreadable(error.to_string()))?;
    let mut sink = FindingSink::new();
    let mut vfs = Vfs::new();
    let mut target = Target {
        kind: "firmware".into(),
        path: Some(display.clone()),
        ..Target::default()
    };
    if !metadata.is_dir() && !metadata.is_file() {
        // A device or a pipe (/dev/zero, a FIFO) reports no size and never ends.
        return Err(unreadable(
            "not a regular file or a directory (a device or a pipe?); copy the image to a file first"
                .into(),
        ));
    }
    if metadata.is_dir() {
        let mut sandbox = Sandbox::new(options.limits, options.limits.max_total_bytes);
        if let Err(reason) = unpack::load_directory(input, &mut sandbox, &mut vfs) {
            record_unpack_problem(&mut sink, "the directory cannot be read completely", reason);
        }
    } else {
        let limit = options.limits.max_total_bytes;
        if metadata.len() > limit {
            return Err(ScanError::TooLarge {
                path: display,
                size: metadata.len(),
                limit,
            });
        }
        let file = std::fs::File::open(input).map_err(|error| unreadable(error.to_string()))?;
        let image = Arc::new(unpack::ImageFile::new(file, metadata.len()));
        // The image's digest is taken on the other core while unpacking starts.
        let hashed = image.clone();
        digest.thread = Some(std::thread::spawn(move || {
            let mut digest = Sha256::new();
            hashed
                .for_each_chunk(0, hashed.len(), |chunk| digest.update(chunk))
                .map(|()| hex(&digest.finalize()))
        }));
        let blob = unpack::Blob::File {
            start: 0,
            len: image.len(),
            image,
        };
        unpack_blob(blob, &mut target, options, &mut vfs, &mut sink);
    }
    Ok((vfs, sink, target, digest))
}

/// Scans an image held in memory; `name` stands for its path in the findings.
pub fn scan_bytes(image: Vec<u8>, name: &str, options: &ScanOptions) -> FindingsFile {
    let started = Instant::now();
    let mut target = Target {
        kind: "firmware".into(),
        path: Some(name.to_owned()),
        ..Target::default()
    };
    let mut sink = FindingSink::new();
    let mut vfs = Vfs::new();
    target.sha256 = Some(provisor_engine::sha256_hex(&image));
    let blob = unpack::Blob::Memory(Arc::from(image));
    unpack_blob(blob, &mut target, options, &mut vfs, &mut sink);
    analyse(&vfs, sink, target, options, started)
}

fn unpack_blob(
    blob: unpack::Blob,
    target: &mut Target,
    options: &ScanOptions,
    vfs: &mut Vfs,
    sink: &mut FindingSink,
) {
    target.size = Some(blob.len());
    let mut sandbox = Sandbox::new(options.limits, blob.len());
    unpack::unpack_image(blob, &mut sandbox, vfs, sink);
}

/// Runs every check over the unpacked filesystem and assembles the findings document.
pub(crate) fn analyse(
    vfs: &Vfs,
    mut sink: FindingSink,
    target: Target,
    options: &ScanOptions,
    started: Instant,
) -> FindingsFile {
    let report = |stage: &str, done: usize, total: usize| tell(options, stage, done, total);
    let context = Context {
        vfs,
        limits: &options.limits,
        advisories: options.advisories.as_deref(),
    };
    let total = checks::all().len() + 1;
    for (index, check) in checks::all().iter().enumerate() {
        report(check.meta().id, index + 1, total);
        check.run(&context, &mut sink);
    }
    report("reading every file", total, total);
    content_pass(&context, &mut sink);
    report("done", total, total);
    let mut document = FindingsFile::new(&options.tool_version, target);
    let (findings, components, inferred) = sink.finish();
    document.findings = findings;
    document.components = components;
    document.inferred_conditions = inferred;
    document.containers = vfs.containers();
    document.duration_ms = started.elapsed().as_millis() as u64;
    document
}

/// Reads every file once, on every core, and hands its contents to the checks that
/// inspect contents; per-file results are merged in path order, so output is stable.
fn content_pass(context: &Context<'_>, sink: &mut FindingSink) {
    let (vfs, limits) = (context.vfs, context.limits);
    use rayon::prelude::*;
    let inspectors: Vec<&dyn checks::Check> = checks::all()
        .iter()
        .copied()
        .filter(|check| check.inspects_files())
        .collect();
    let bound = limits.max_file_read.min(checks::MAX_INSPECTED);
    let files: Vec<&crate::vfs::Node> = vfs
        .files()
        .filter(|node| node.size >= 64 && node.size <= bound)
        .collect();
    let partials: Vec<(bool, FindingSink)> = files
        .par_iter()
        .map(|node| {
            let mut partial = FindingSink::new();
            let Ok(bytes) = vfs.read_node(node, bound) else {
                return (false, partial);
            };
            for check in &inspectors {
                check.inspect(node, &bytes, &mut partial);
            }
            (true, partial)
        })
        .collect();
    let mut inspected = 0;
    for (read, partial) in partials {
        inspected += usize::from(read);
        sink.merge(partial);
    }
    let payloads: Vec<(&str, &[u8])> = vfs
        .payloads()
        .filter(|(_, bytes)| bytes.len() as u64 <= bound)
        .collect();
    for partial in payloads
        .par_iter()
        .map(|(chain, bytes)| {
            let mut partial = FindingSink::new();
            for check in &inspectors {
                check.inspect_payload(chain, bytes, &mut partial);
            }
            partial
        })
        .collect::<Vec<_>>()
    {
        sink.merge(partial);
    }
    for check in checks::all() {
        check.conclude(context, inspected, sink);
    }
}

fn record_unpack_problem(sink: &mut FindingSink, title: &str, reason: String) {
    sink.add(
        unpack::UNPACK_CHECK,
        &["5.6-1"],
        provisor_engine::Outcome::Inconclusive,
        provisor_engine::Severity::Info,
        title,
    )
    .detail(reason)
    .record();
}
