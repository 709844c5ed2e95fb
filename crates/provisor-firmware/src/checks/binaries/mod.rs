//! Checks of the executables and libraries in an image.

pub mod hardening;
