//! Checks of how the image updates itself.

pub mod update_mechanism;
