//! Checks of the services an image starts at boot.

pub mod plaintext_login;
