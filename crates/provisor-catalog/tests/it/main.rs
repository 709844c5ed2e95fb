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

#[test]
fn every_regime_names_real_provisions_of_its_edition() {
    for regime in provisor_catalog::regimes() {
        assert!(regime.problems().is_empty(), "{:?}", regime.problems());
    }
    let psti = provisor_catalog::regime("uk-psti").unwrap();
    assert_eq!(psti.edition, "en303645-v2.1.1");
    let deemed: Vec<(&str, Vec<&str>)> = psti
        .requirements
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.provisions.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        deemed,
        [
            ("passwords", vec!["5.1-1", "5.1-2"]),
            ("reporting", vec!["5.2-1"]),
            ("support-period", vec!["5.3-13"]),
        ]
    );
    assert_eq!(psti.statement.as_ref().unwrap().content.len(), 6);
}
