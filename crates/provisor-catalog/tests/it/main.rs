//! Integration tests of the embedded catalog data: every edition is sound, and V2.1.1
//! and V3.1.3 match the counts and corrections of the standard.

mod v2_1_1;
mod v3_1_3;

#[test]
fn every_embedded_edition_is_sound() {
    for catalog in provisor_catalog::editions() {
        let problems = catalog.problems();
        assert!(problems.is_empty(), "{}: {problems:?}", catalog.id);
    }
}
