//! Panics of third-party decoders on hostile data, contained. backhand can
//! panic on malformed metadata (arithmetic overflow, out-of-range slices); such a panic
//! is a malformed image, reported as a finding, not a crash of provisor. An application
//! that calls [`quiet_contained_panics`] also keeps Rust's panic message for these off
//! its standard error, while every other panic is still reported as before.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`contained`].
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work`, turning a panic inside it into `Err(())`.
pub(crate) fn contained<T>(work: impl FnOnce() -> T) -> Result<T, ()> {
    let outer = CONTAINED.with(|flag| flag.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    CONTAINED.with(|flag| flag.set(outer));
    result.map_err(drop)
}

/// Installs a panic hook that stays silent for panics [`contained`] catches and hands
/// every other panic to the hook that was there before. Idempotent.
pub fn quiet_contained_panics() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_an_error_and_the_flag_is_restored() {
        quiet_contained_panics();
        let result: Result<(), ()> = contained(|| panic!("hostile metadata"));
        assert!(result.is_err());
        assert_eq!(contained(|| 7), Ok(7));
        assert!(!CONTAINED.with(Cell::get));
    }
}
