//! Checks of the executables and libraries in an image.

pub(crate) mod elf;
pub mod hardening;
