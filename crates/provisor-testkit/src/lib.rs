//! What the fault tests need and no library has: a TCP proxy on loopback that refuses
//! or cuts connections as a test says ([`FaultProxy`]), and an S3 server on loopback
//! ([`S3Server`]: s3s-fs, which `scripts/test` installs) for the object-storage tests.
//! A dev-dependency only; it never reaches anything but loopback.

#![forbid(unsafe_code)]

mod fault_proxy;
mod s3;

pub use fault_proxy::{Fault, FaultProxy, MAX_CONNECTION_LIFE};
pub use s3::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY};
