//! Builders shared by the engine tests.

use provisor_catalog::{ConditionId, unnamed_edition};
use provisor_engine::{
    ConditionAnswer, Finding, Input, Location, Outcome, Severity, Statement, Support,
};

pub fn input() -> Input<'static> {
    Input::new(unnamed_edition())
}

pub fn answer(input: &mut Input<'_>, id: &str, value: bool) {
    input
        .answers
        .insert(ConditionId::new(id), ConditionAnswer::declared(value));
}

pub fn state(input: &mut Input<'_>, id: &str, support: Support, detail: &str) {
    input
        .statements
        .insert(id.to_owned(), Statement::new(support, detail));
}

pub fn finding(id: &str, provision: &str, outcome: Outcome) -> Finding {
    Finding {
        id: id.to_owned(),
        check: "test.check".into(),
        provisions: vec![provision.to_owned()],
        outcome,
        severity: Severity::High,
        title: format!("{outcome} on {provision}"),
        detail: String::new(),
        location: Location::default(),
        evidence: serde_json::Value::Null,
    }
}
