//! Integration tests of the embedded catalog data: every edition is sound, and V2.1.1
//! matches the counts and corrections of the standard.

mod v2_1_1;

#[test]
fn every_embedded_edition_is_sound() {
    for catalog in provisor_catalog::editions() {
        let problems = catalog.problems();
        assert!(problems.is_empty(), "{}: {problems:?}", catalog.id);
    }
}
