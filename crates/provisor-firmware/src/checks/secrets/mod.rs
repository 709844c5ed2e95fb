//! Checks for hard-coded secrets.

pub mod private_key;
