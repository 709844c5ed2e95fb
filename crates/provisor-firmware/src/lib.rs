//! Firmware analysis. An image (or a directory holding an extracted root filesystem) is
//! unpacked into one sandboxed virtual filesystem ([`Vfs`]), every check of the registry
//! ([`checks::all`]) observes it, and the result is a `provisor.findings/2` document the
//! engine reads through an assessment's `[[scan]]` entries. [`unpack_to`] writes what a
//! scan sees into a directory, with a manifest, for a person to look at.
//!
//! Firmware is hostile input: every path taken from an image goes through
//! [`sandbox::Sandbox`], which refuses escapes and enforces the limits on total bytes,
//! file count, nesting depth and expansion ratio. What cannot be unpacked becomes an
//! `inconclusive` finding with the offset and the reason, never a crash.

pub mod checks;
mod contain;
mod extract;
#[doc(hidden)]
pub mod fuzzing;
pub mod sandbox;
mod scan;
mod unpack;
pub mod vfs;

pub use contain::quiet_contained_panics;
pub use extract::{
    Entry, MANIFEST, MANIFEST_SCHEMA, Manifest, PAYLOADS, Payload, Problem, UnpackError, unpack_to,
};
pub use provisor_engine::FindingSink;
pub use sandbox::{Limits, Sandbox};
pub use scan::{Progress, ScanError, ScanOptions, scan, scan_bytes};
pub use vfs::{Node, NodeKind, Vfs};
