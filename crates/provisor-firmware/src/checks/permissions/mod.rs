//! Checks of file ownership and modes.

pub mod file_modes;
