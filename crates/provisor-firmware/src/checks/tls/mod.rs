//! Checks of the cryptography services use: certificates.

pub mod certificate;
