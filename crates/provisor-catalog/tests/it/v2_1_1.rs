//! The V2.1.1 data against the standard: counts, corrections of the seed, Table B.1
//! differences and the TS 103 701 test-case layout.

use provisor_catalog::{Catalog, ConditionId, Relation, Status, TestKind};

fn v2() -> &'static Catalog {
    provisor_catalog::edition("en303645-v2.1.1").expect("V2.1.1 is embedded")
}

#[test]
fn counts_match_the_standard() {
    let catalog = v2();
    assert_eq!(catalog.provisions.len(), 68);
    assert_eq!(catalog.categories.len(), 15);
    assert_eq!(catalog.conditions.len(), 28);
    assert_eq!(catalog.ixit.len(), 29);
    let mandatory = catalog
        .provisions
        .iter()
        .filter(|provision| provision.status == Status::Mandatory)
        .count();
    assert_eq!((mandatory, 68 - mandatory), (33, 35));
    let test_cases: usize = catalog
        .provisions
        .iter()
        .map(|provision| provision.test_cases.len())
        .sum();
    assert_eq!(test_cases, 109);
}

#[test]
fn seed_errors_are_corrected() {
    let catalog = v2();
    let label = |id: &str| catalog.provision(id).unwrap().status_label();
    assert_eq!(label("5.1-3"), "M C (8)");
    assert_eq!(label("5.3-10"), "M C (11, 12)");
    assert_eq!(label("6-3"), "M C (7)");
    assert_eq!(catalog.provision("5.3-1").unwrap().category, "5.3");
    assert!(
        catalog
            .provision("4-1")
            .unwrap()
            .text
            .starts_with("A justification")
    );
    assert!(
        catalog
            .provision("5.7-1")
            .unwrap()
            .text
            .contains("secure boot")
    );
    assert_eq!(
        catalog.category("5.3").unwrap().title,
        "Keep software updated"
    );
    assert!(catalog.categories.iter().all(|category| {
        !["SOFTAWRE", "COUMINATE", "MANINTENANCE", " FO "]
            .iter()
            .any(|typo| category.title.to_uppercase().contains(typo))
    }));
}

#[test]
fn published_table_b1_is_kept_beside_the_model() {
    let catalog = v2();
    let b1 = |id: &str| catalog.provision(id).unwrap().table_b1.clone();
    assert_eq!(b1("4-1"), None);
    for (id, published) in [
        ("5.1-3", "M"),
        ("5.4-1", "M"),
        ("5.5-4", "R"),
        ("5.8-1", "R"),
        ("5.13-1", "M"),
        ("6-3", "M"),
        ("5.1-1", "M C (1)"),
        ("5.3-6", "R C (9, 12)"),
        ("5.2-1", "M"),
    ] {
        assert_eq!(b1(id).as_deref(), Some(published), "{id}");
    }
    // Table B.1 knows conditions 1 to 13 only.
    for provision in &catalog.provisions {
        if let Some(published) = &provision.table_b1 {
            for number in published
                .split(|c: char| !c.is_ascii_digit())
                .filter(|part| !part.is_empty())
            {
                assert!(number.parse::<u32>().unwrap() <= 13, "{}", provision.id);
            }
        }
    }
}

#[test]
fn test_case_layout_follows_ts_103_701() {
    let catalog = v2();
    let kinds = |id: &str| -> Vec<TestKind> {
        catalog
            .provision(id)
            .unwrap()
            .test_cases
            .iter()
            .map(|case| case.kind)
            .collect()
    };
    assert_eq!(kinds("4-1"), [TestKind::Conceptual]);
    assert_eq!(kinds("5.8-3"), [TestKind::Functional]);
    assert_eq!(kinds("5.3-10"), [TestKind::ConceptualFunctional]);
    assert_eq!(kinds("5.1-1"), [TestKind::Conceptual, TestKind::Functional]);
    let single = catalog
        .provisions
        .iter()
        .filter(|provision| provision.test_cases.len() == 1)
        .count();
    assert_eq!(single, 27);
}

#[test]
fn condition_relations_are_those_of_the_model() {
    let catalog = v2();
    assert_eq!(catalog.relations.len(), 13);
    assert!(catalog.relations.contains(&Relation::ExactlyOne {
        of: vec![ConditionId::new("4"), ConditionId::new("5")]
    }));
    assert_eq!(
        catalog.condition("13").unwrap().question,
        "Can someone with physical access reach a debug interface such as UART, JTAG or test pads?"
    );
}

#[test]
fn conditions_serialize_as_numbers() {
    let provision = v2().provision("5.3-6").unwrap();
    let json = serde_json::to_string(&provision.conditions).unwrap();
    assert_eq!(json, "[9,12]");
    let lettered = provisor_catalog::ConditionId::new("F.a");
    assert_eq!(serde_json::to_string(&lettered).unwrap(), "\"F.a\"");
    let read: Vec<ConditionId> = serde_json::from_str("[13, \"F.a\"]").unwrap();
    assert_eq!(read, [ConditionId::new("13"), lettered]);
}
