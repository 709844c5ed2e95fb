//! Checks of the cryptography services use: certificates and OpenSSL's system-wide
//! defaults.

pub mod certificate;
pub mod openssl_config;
