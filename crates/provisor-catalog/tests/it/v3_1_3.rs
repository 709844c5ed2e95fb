//! The V3.1.3 data against what is known of the edition: Table B.1's 78 rows and their
//! status strings, the conditions and features, the voided parents, the relations read
//! from the texts, the TS 103 701 V2.1.1 test groups and IXIT tables, and the marking of
//! every text that is not the standard's sentence.

use std::collections::BTreeSet;

use provisor_catalog::{
    Catalog, ConditionId, ConditionKind, Relation, Status, TestKind, TestOrigin, TextSource,
    edition,
};

fn v3() -> &'static Catalog {
    edition("en303645-v3.1.3").expect("V3.1.3 is embedded")
}

#[test]
fn counts_match_table_b1() {
    let catalog = v3();
    assert_eq!(catalog.provisions.len(), 78);
    let mandatory = catalog
        .provisions
        .iter()
        .filter(|provision| provision.status == Status::Mandatory)
        .count();
    assert_eq!((mandatory, 78 - mandatory), (36, 42));
    assert_eq!(catalog.features().count(), 27);
    let numbered: Vec<&str> = catalog
        .numbered_conditions()
        .map(|condition| condition.id.as_str())
        .collect();
    assert_eq!(numbered, ["3", "12", "14", "15", "16"]);
    assert_eq!(catalog.categories.len(), 15);
    assert_eq!(catalog.categories[0].id, "5.0");
    assert_eq!(catalog.ixit.len(), 29);
}

#[test]
fn every_status_string_follows_the_grammar_and_gives_the_model() {
    // Table B.1's grammar: M|R, then C for numbered conditions, F for lettered features.
    for provision in &v3().provisions {
        let published = provision.table_b1.as_deref().expect("every row has one");
        assert_eq!(provision.status_label(), published, "{}", provision.id);
        for id in &provision.conditions {
            let condition = v3().condition(id.as_str()).unwrap();
            let kind = if id.number().is_some() {
                ConditionKind::Condition
            } else {
                ConditionKind::Feature
            };
            assert_eq!(condition.kind, kind, "{}: {id}", provision.id);
        }
    }
    let label = |id: &str| v3().provision(id).unwrap().status_label();
    assert_eq!(label("5.1-5"), "M C F (14, e)");
    assert_eq!(label("6-7"), "R F (aa)");
    assert_eq!(label("5.3-2"), "M C (15)");
    assert_eq!(label("5.1-2A"), "R");
}

#[test]
fn split_and_new_provisions_are_there_and_the_voided_parents_point_to_them() {
    let catalog = v3();
    for id in [
        "5.1-2A", "5.3-4A", "5.3-4B", "5.3-6A", "5.3-6B", "5.3-15A", "5.3-15B", "5.6-4A", "5.6-4B",
        "5.13-1A", "5.13-1B", "6-3A", "6-3B", "6-6", "6-7", "6-8",
    ] {
        assert!(catalog.provision(id).is_some(), "{id}");
    }
    let voided: Vec<(&str, Vec<&str>)> = catalog
        .voided
        .iter()
        .map(|voided| {
            let successors = voided.successors.iter().map(String::as_str).collect();
            (voided.id.as_str(), successors)
        })
        .collect();
    assert_eq!(
        voided,
        [
            ("5.3-4", vec!["5.3-4A", "5.3-4B"]),
            ("5.3-6", vec!["5.3-6A", "5.3-6B"]),
            ("5.3-15", vec!["5.3-15A", "5.3-15B"]),
            ("5.6-4", vec!["5.6-4A", "5.6-4B"]),
            ("5.13-1", vec!["5.13-1A", "5.13-1B"]),
            ("6-3", vec!["6-3A"]),
        ]
    );
    for voided in &catalog.voided {
        assert!(catalog.provision(&voided.id).is_none());
    }
    // 4-1 became 5.0-1 and keeps its derived rule.
    let derived = catalog.provision("5.0-1").unwrap();
    assert!(derived.derived.is_some());
    assert_eq!(derived.previous.as_deref(), Some("4-1"));
    assert!(catalog.provision("4-1").is_none());
}

#[test]
fn every_provision_continues_a_v2_provision_or_is_new() {
    let v2 = provisor_catalog::edition("en303645-v2.1.1").unwrap();
    let mut new = Vec::new();
    let mut continued = BTreeSet::new();
    for provision in &v3().provisions {
        match &provision.previous {
            Some(previous) => {
                assert!(v2.provision(previous).is_some(), "{}", provision.id);
                continued.insert(previous.as_str());
            }
            None => new.push(provision.id.as_str()),
        }
    }
    assert_eq!(new, ["5.1-2A", "6-3B", "6-6", "6-7", "6-8"]);
    // Every V2.1.1 provision lives on in V3.1.3.
    for provision in &v2.provisions {
        assert!(
            continued.contains(provision.id.as_str()),
            "{}",
            provision.id
        );
    }
}

#[test]
fn texts_that_are_not_the_standards_are_marked() {
    let catalog = v3();
    let v2 = provisor_catalog::edition("en303645-v2.1.1").unwrap();
    for provision in &catalog.provisions {
        match provision.text_source {
            TextSource::PreviousEdition => {
                let previous = v2.provision(provision.previous.as_ref().unwrap()).unwrap();
                assert_eq!(provision.text, previous.text, "{}", provision.id);
            }
            TextSource::Summary => {
                // A summary is provisor's words: never the modal verbs of the standard.
                assert!(
                    !provision.text.contains(" shall ") && !provision.text.contains(" should "),
                    "{}: {}",
                    provision.id,
                    provision.text
                );
            }
            source => panic!("{}: {source:?}", provision.id),
        }
    }
    let source = |id: &str| catalog.provision(id).unwrap().text_source;
    // New, split or changed: a summary. Believed unchanged: the V2.1.1 sentence.
    for id in ["5.1-2A", "5.6-4A", "5.13-1B", "6-6", "5.1-5", "5.3-16"] {
        assert_eq!(source(id), TextSource::Summary, "{id}");
    }
    for id in ["5.0-1", "5.1-4", "5.4-3", "5.3-10", "6-5", "5.2-1"] {
        assert_eq!(source(id), TextSource::PreviousEdition, "{id}");
    }
}

#[test]
fn test_groups_follow_v1_1_1_where_they_can_and_provisors_own_are_marked() {
    let catalog = v3();
    let kinds = |id: &str| -> Vec<(String, TestKind, TestOrigin)> {
        catalog
            .provision(id)
            .unwrap()
            .test_cases
            .iter()
            .map(|case| (case.id.clone(), case.kind, case.origin))
            .collect()
    };
    let spec = TestOrigin::Specification;
    assert_eq!(
        kinds("5.0-1"),
        [("5.0-1-1".into(), TestKind::Conceptual, spec)]
    );
    assert_eq!(
        kinds("5.6-4B"),
        [
            ("5.6-4B-1".into(), TestKind::Conceptual, spec),
            ("5.6-4B-2".into(), TestKind::Functional, spec)
        ]
    );
    assert_eq!(
        kinds("6-6"),
        [("6-6-P1".into(), TestKind::Conceptual, TestOrigin::Provisor)]
    );
    let case = &catalog.provision("6-6").unwrap().test_cases[0];
    assert!(case.display_id().contains("provisor"));
    assert_eq!(catalog.test_case("5.13-1A-2").unwrap().0.id, "5.13-1A");
}

#[test]
fn relations_follow_from_the_texts() {
    let catalog = v3();
    let implies = |premise: &str, consequence: &str| Relation::Implies {
        premise: ConditionId::new(premise),
        consequence: ConditionId::new(consequence),
    };
    for (premise, consequence) in [("b", "a"), ("r", "q"), ("u", "t"), ("t", "z"), ("y", "z")] {
        assert!(
            catalog.relations.contains(&implies(premise, consequence)),
            "{premise} ⇒ {consequence}"
        );
    }
    // h ⇒ g holds through the update mechanism (h ⇒ 12 ⇒ g).
    assert!(catalog.relations.contains(&implies("h", "12")));
    assert!(catalog.relations.contains(&implies("12", "g")));
    // No V2.1.1 number is resolved in V3.1.3: 1, 2, 4, 5 and 13 do not exist.
    for id in ["1", "2", "4", "5", "13", "17", "28"] {
        assert!(catalog.condition(id).is_none(), "{id}");
    }
}

#[test]
fn ixit_tables_carry_the_three_renames() {
    let catalog = v3();
    for id in ["11-SecComMech", "15-PhyIntf", "28-LogIntf"] {
        assert!(catalog.ixit_table(id).is_some(), "{id}");
    }
    for id in ["11-ComMech", "15-Intf", "28-ExtAPI"] {
        assert!(catalog.ixit_table(id).is_none(), "{id}");
    }
    // `scan host` reads the declared network interfaces from 28-LogIntf.
    let logical = catalog.ixit_table("28-LogIntf").unwrap();
    assert!(logical.field("port").is_some() && logical.field("password").is_some());
    assert!(
        catalog
            .ixit_table("15-PhyIntf")
            .unwrap()
            .field("port")
            .is_none()
    );
    let uses = |id: &str| catalog.provision(id).unwrap().ixit.clone();
    assert_eq!(uses("5.13-1A"), ["27-UserIntf", "29-InpVal"]);
    assert!(uses("5.6-1").contains(&"28-LogIntf".to_owned()));
}

#[test]
fn the_migration_map_covers_every_v2_condition_and_renamed_table() {
    let v2 = provisor_catalog::edition("en303645-v2.1.1").unwrap();
    let migration = v3()
        .migration
        .as_ref()
        .expect("V3.1.3 migrates from V2.1.1");
    assert_eq!(migration.from, v2.id);
    let mapped: Vec<&str> = migration
        .conditions
        .iter()
        .map(|entry| entry.from.as_str())
        .collect();
    let conditions: Vec<&str> = v2.conditions.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(mapped, conditions, "every V2.1.1 condition once, in order");
    let to = |id: &str| -> Vec<&str> {
        let entry = migration.condition(id).unwrap();
        entry.to.iter().map(ConditionId::as_str).collect()
    };
    // V3.1.3's own table of successors.
    assert_eq!(to("1"), ["a"]);
    assert_eq!(to("5"), ["14", "15"]);
    assert_eq!(to("9"), ["h", "i"]);
    assert!(to("4").is_empty());
    // A "not constrained" device has no constraint that prevents either mechanism; a
    // constrained one may still have one of them.
    assert!(migration.condition("5").unwrap().carries(true));
    assert!(!migration.condition("5").unwrap().carries(false));
    for table in &migration.ixit {
        assert!(v2.ixit_table(&table.from).is_some(), "{}", table.from);
        assert!(v3().ixit_table(&table.to).is_some(), "{}", table.to);
    }
    // Every V2.1.1 table keeps its id in V3.1.3 or is renamed.
    for table in &v2.ixit {
        let id = migration
            .ixit_table(&table.id)
            .map_or(table.id.as_str(), |entry| entry.to.as_str());
        assert!(v3().ixit_table(id).is_some(), "{}", table.id);
    }
}

#[test]
fn findings_carry_to_the_parts_of_a_split_provision_by_check_and_by_what_was_found() {
    let catalog = v3();
    let checks: Vec<&str> = catalog
        .check_tests
        .iter()
        .map(|entry| entry.check.as_str())
        .collect();
    for rule in &catalog.finding_rules {
        assert!(checks.contains(&rule.check.as_str()), "{}", rule.check);
    }
    let none = |_: &str| None;
    let carry = |check: &str, provisions: &[&str], evidence: &dyn Fn(&str) -> Option<String>| {
        let provisions: Vec<String> = provisions.iter().map(|id| (*id).to_owned()).collect();
        catalog.carry_finding(check, &provisions, evidence)
    };
    // Unchanged and renumbered provisions.
    assert_eq!(
        carry("net.tls", &["5.5-1", "5.8-1"], &none),
        ["5.5-1", "5.8-1"]
    );
    assert_eq!(carry("any.check", &["4-1"], &none), ["5.0-1"]);
    // A debug service on the network is 5.6-4A; a shell on a UART is 5.6-4A and 5.6-4B.
    assert_eq!(
        carry("net.exposed-interfaces", &["5.6-4", "5.6-1"], &none),
        ["5.6-4A", "5.6-1"]
    );
    let serial = |field: &str| (field == "interface").then(|| "serial".to_owned());
    assert_eq!(
        carry("firmware.debug-access", &["5.6-4"], &serial),
        ["5.6-4A", "5.6-4B"]
    );
    assert_eq!(
        carry("firmware.debug-access", &["5.6-4"], &none),
        ["5.6-4A"]
    );
    // Input through a web form is 5.13-1A, through an API 5.13-1B.
    let form = |field: &str| (field == "input").then(|| "form".to_owned());
    assert_eq!(
        carry("net.input-robustness", &["5.13-1"], &form),
        ["5.13-1A"]
    );
    assert_eq!(
        carry("net.input-robustness", &["5.13-1"], &none),
        ["5.13-1B"]
    );
    // A check no rule names carries to every part.
    assert_eq!(
        carry("firmware.condition-inference", &["5.6-4"], &none),
        ["5.6-4A", "5.6-4B"]
    );
}
