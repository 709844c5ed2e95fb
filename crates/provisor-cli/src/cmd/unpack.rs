//! `provisor unpack IMAGE -o DIR`: every file a firmware scan sees, written into a new
//! directory through the scan's sandbox, with `provisor-manifest.json` (the containers
//! opened, each entry's container, mode and SHA-256, what could not be unpacked). Exit 1
//! when something could not be unpacked (the manifest's problems), as a scan exits 1 on
//! a failing finding; what could be is written all the same.

use crate::cli::UnpackArgs;
use crate::{Failure, Outcome};

pub fn run(args: UnpackArgs) -> Result<Outcome, Failure> {
    let options = provisor_firmware::ScanOptions {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    };
    let manifest = provisor_firmware::unpack_to(&args.image, &args.output, &options)
        .map_err(|error| Failure::Invalid(format!("{error}; nothing was written")))?;
    let written = |kind: &str| {
        manifest
            .entries
            .iter()
            .filter(|entry| entry.kind == kind && entry.written.is_some())
            .count()
    };
    let left_out = manifest
        .entries
        .iter()
        .filter(|entry| entry.written.is_none())
        .count();
    eprintln!(
        "unpacked {} files, {} directories and {} links from {} container(s) into {}{}",
        written("file"),
        written("directory"),
        written("symlink"),
        manifest.containers.len(),
        args.output.display(),
        if manifest.payloads.is_empty() {
            String::new()
        } else {
            format!(
                ", and {} payload(s) under {}/",
                manifest.payloads.len(),
                provisor_firmware::PAYLOADS
            )
        }
    );
    if left_out > 0 {
        eprintln!(
            "{left_out} entries are listed but not written (devices, links to nothing, unreadable files): see their notes in the manifest"
        );
    }
    for problem in &manifest.problems {
        eprintln!("warning: {}: {}", problem.title, problem.detail);
    }
    eprintln!(
        "manifest: {}",
        args.output.join(provisor_firmware::MANIFEST).display()
    );
    Ok(if manifest.problems.is_empty() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
