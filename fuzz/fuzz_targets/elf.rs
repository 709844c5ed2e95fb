//! Fuzz target: the ELF reader and every binary check (hardening, compiled credentials,
//! boot backdoors, component versions), on an arbitrary program installed set-uid root
//! and started at boot in an otherwise small root filesystem.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    provisor_fuzz::let_provisor_contain_panics();
    let _ = provisor_firmware::fuzzing::examine_program(data);
});
