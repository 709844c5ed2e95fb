//! Checks for hard-coded secrets, and the recognizers of key formats they share.

pub mod compiled_credential;
pub mod embedded_secret;
pub(crate) mod keys;
pub mod private_key;
