//! What the fuzz targets share: running one of provisor's parsers on arbitrary bytes
//! with panics that provisor contains on purpose left to provisor.

use std::sync::Once;

static DEFAULT_PANIC_HOOK: Once = Once::new();

/// libfuzzer-sys aborts on every panic, even one provisor catches on purpose (a
/// decoder's panic on hostile metadata is contained and reported as malformed input).
/// This restores the default hook: a panic that escapes provisor still unwinds out of
/// the target, and libfuzzer-sys still reports it as a crash.
pub fn let_provisor_contain_panics() {
    DEFAULT_PANIC_HOOK.call_once(|| drop(std::panic::take_hook()));
}

/// Opens the input as one container format and reads every file it mounted.
pub fn unpack(format: &str, data: &[u8]) {
    let_provisor_contain_panics();
    let _ = provisor_firmware::fuzzing::unpack_as(format, data);
}
