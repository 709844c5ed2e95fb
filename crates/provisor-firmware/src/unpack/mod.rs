//! Identifying and unpacking what an image holds. A directory is read as an extracted
//! root filesystem; a file is searched for filesystem signatures at any offset (carving)
//! and each one found is unpacked into the virtual filesystem. What cannot be unpacked is
//! reported as an inconclusive finding with its offset and the reason.

mod directory;
mod squashfs;

use std::sync::Arc;

use provisor_engine::{Outcome, Severity};

use crate::finding::FindingSink;
use crate::sandbox::Sandbox;
use crate::vfs::Vfs;

pub(crate) use directory::load_directory;

/// The check id of unpacking problems.
pub(crate) const UNPACK_CHECK: &str = "firmware.unpack";

/// A container found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Carved {
    /// `squashfs`.
    pub format: &'static str,
    /// Byte offset in the image.
    pub offset: usize,
}

/// Finds container signatures at any offset, in order.
pub(crate) fn carve(image: &[u8]) -> Vec<Carved> {
    let mut found = Vec::new();
    for (offset, window) in image.windows(4).enumerate() {
        if (window == b"hsqs" || window == b"sqsh") && squashfs::plausible(&image[offset..]) {
            found.push(Carved {
                format: "squashfs",
                offset,
            });
        }
    }
    found
}

/// Unpacks every container carved from an image into `vfs`.
pub(crate) fn unpack_image(
    image: Arc<[u8]>,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
    sink: &mut FindingSink,
) {
    let carved = carve(&image);
    if carved.is_empty() {
        sink.add(
            UNPACK_CHECK,
            &["5.6-1"],
            Outcome::Inconclusive,
            Severity::Info,
            "no known filesystem or container found in the image",
        )
        .detail("provisor looked for squashfs signatures at every offset; the image may be encrypted, compressed as a whole, or in a format not yet supported. Extract the root filesystem and scan the directory instead.")
        .record();
        return;
    }
    for container in carved {
        let chain = format!("{}@{:#x}", container.format, container.offset);
        let result = match container.format {
            "squashfs" => squashfs::unpack(image.clone(), container.offset, &chain, sandbox, vfs),
            _ => Ok(()),
        };
        if let Err(reason) = result {
            sink.add(
                UNPACK_CHECK,
                &["5.6-1"],
                Outcome::Inconclusive,
                Severity::Info,
                format!(
                    "{} at offset {:#x} cannot be unpacked",
                    container.format, container.offset
                ),
            )
            .detail(reason)
            .evidence(serde_json::json!({"offset": container.offset, "format": container.format}))
            .record();
        }
    }
}
