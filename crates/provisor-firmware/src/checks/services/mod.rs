//! Checks of the services an image starts at boot and how they are configured.

pub mod backdoor;
pub(crate) mod boot;
pub(crate) mod config;
pub mod debug_access;
pub mod mqtt_config;
pub mod openwrt_config;
pub mod plaintext_login;
pub mod ssh_config;
pub mod web_config;
