//! Checks for hard-coded secrets, and the recognizers of key formats they share.

pub(crate) mod keys;
pub mod private_key;
