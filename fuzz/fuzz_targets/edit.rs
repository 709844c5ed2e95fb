//! Fuzz target: structured changes to an assessment file (`provisor_engine::edit_file`,
//! what the team server's forms write). On any text and any change: no panic, and
//! what it writes reads back as TOML with the change in it.
#![no_main]

use provisor_engine::{AnswerEdit, FileEdit, IxitFieldEdit, StatementEdit, TestEdit, edit_file};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first byte chooses the change; then the key, a NUL, the value, a NUL, and
    // the file's text.
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |byte| *byte == 0);
    let (Some(key), Some(value), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let (Ok(key), Ok(value), Ok(text)) = (
        std::str::from_utf8(key),
        std::str::from_utf8(value),
        std::str::from_utf8(text),
    ) else {
        return;
    };
    let remove = choice & 0x80 != 0;
    let edit = match choice % 5 {
        0 => FileEdit::Device {
            field: key.to_owned(),
            value: (!remove).then(|| value.to_owned()),
        },
        1 => FileEdit::Condition {
            id: key.to_owned(),
            answer: (!remove).then(|| AnswerEdit {
                answer: choice & 0x40 != 0,
                note: (!value.is_empty()).then(|| value.to_owned()),
            }),
        },
        2 => FileEdit::Statement {
            provision: key.to_owned(),
            statement: (!remove).then(|| StatementEdit {
                support: "yes".to_owned(),
                detail: value.to_owned(),
                evidence: vec![value.to_owned()],
            }),
        },
        3 => FileEdit::Ixit {
            table: key.to_owned(),
            index: (choice & 0x40 != 0).then_some(0),
            fields: (!remove).then(|| vec![("id".to_owned(), IxitFieldEdit::Text(value.to_owned()))]),
        },
        _ => FileEdit::Test {
            id: key.to_owned(),
            record: (!remove).then(|| TestEdit {
                verdict: "pass".to_owned(),
                assessor: Some(value.to_owned()),
                date: Some("2026-11-30".to_owned()),
                method: value.to_owned(),
                evidence: Vec::new(),
                findings: Vec::new(),
                override_reason: None,
            }),
        },
    };
    if let Ok(edited) = edit_file(text, &edit) {
        let document: toml::Table = match edited.parse() {
            Ok(document) => document,
            Err(error) => panic!("the edited file is not TOML: {error}\n{edited}"),
        };
        if remove {
            return;
        }
        let written = match &edit {
            FileEdit::Condition { id, .. } => document.get("conditions").and_then(|t| t.get(id.as_str())),
            FileEdit::Statement { provision, .. } => document
                .get("provision")
                .and_then(|t| t.get(provision.as_str())),
            FileEdit::Test { id, .. } => document.get("test").and_then(|t| t.get(id.as_str())),
            FileEdit::Device { field, .. } => document.get("device").and_then(|t| t.get(field.as_str())),
            FileEdit::Ixit { table, .. } => document.get("ixit").and_then(|t| t.get(table.as_str())),
            FileEdit::Append { .. } => return,
        };
        assert!(written.is_some(), "{:?} is not in the edited file:\n{edited}", edit.subject());
    }
});
