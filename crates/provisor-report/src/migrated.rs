//! The assessment file `provisor migrate` writes, and the report it prints of what a
//! person must still do. The file has the layout of a new assessment of the target
//! edition, with the carried answers and statements filled in and marked; the sections
//! that carry as they are (IXIT entries, test records, acceptances, scans) are taken
//! from the old file's TOML, renamed where the migration says so.

use std::fmt::Write;

use provisor_engine::{AssessmentFile, Kind, Migrated};

use crate::template::{assessment_text, comment};

/// The new assessment file. `date` is the day of the migration.
pub fn migrated_assessment(
    migrated: &Migrated,
    file: &AssessmentFile,
    date: &str,
) -> Result<String, String> {
    let catalog = migrated.catalog;
    let mut header = String::new();
    comment(
        &mut header,
        "",
        &format!(
            "provisor assessment, migrated on {date} from {} ({}) to {} by `provisor migrate`.",
            file.origin(),
            file.catalog.short_title,
            catalog.short_title
        ),
    );
    header.push_str("#\n");
    comment(
        &mut header,
        "",
        &format!(
            "Answers carried from the old edition say so in their note. Statements marked `carried` must be checked against {} and the mark removed; the assessment cannot be approved before. Check it with `provisor check FILE`.",
            catalog.short_title
        ),
    );
    let preamble = match file.kind {
        Kind::Lab => "kind = \"lab\"\n",
        Kind::SelfAssessment => "",
    };
    let mut out = assessment_text(
        catalog,
        &header,
        preamble,
        &file.device,
        &migrated.answers,
        &migrated.statements,
    );
    let old: toml::Table = toml::from_str(file.source()).map_err(|error| error.to_string())?;
    let mut tail = toml::Table::new();
    if !migrated.ixit.is_empty() {
        let mut tables = toml::Table::new();
        for moved in &migrated.ixit {
            let old_entry = old
                .get("ixit")
                .and_then(|ixit| ixit.get(&moved.from_table))
                .and_then(|table| table.as_array())
                .and_then(|entries| entries.get(moved.from_index))
                .cloned()
                .ok_or_else(|| {
                    format!("IXIT entry {} is not in the old file", moved.entry.name())
                })?;
            // Only the fields the migration kept.
            let old_entry = match old_entry {
                toml::Value::Table(mut fields) => {
                    fields.retain(|name, _| moved.entry.fields.contains_key(name));
                    toml::Value::Table(fields)
                }
                other => other,
            };
            tables
                .entry(moved.entry.table.clone())
                .or_insert_with(|| toml::Value::Array(Vec::new()))
                .as_array_mut()
                .expect("an array")
                .push(old_entry);
        }
        tail.insert("ixit".into(), toml::Value::Table(tables));
    }
    if !migrated.tests.is_empty() {
        let mut tests = toml::Table::new();
        for (id, record) in &migrated.tests {
            let from = record.carried.as_deref().unwrap_or(id);
            let mut table = old
                .get("test")
                .and_then(|tests| tests.get(from))
                .and_then(|table| table.as_table())
                .cloned()
                .ok_or_else(|| format!("test record {from} is not in the old file"))?;
            table.insert("carried".into(), toml::Value::String(from.to_owned()));
            tests.insert(id.clone(), toml::Value::Table(table));
        }
        tail.insert("test".into(), toml::Value::Table(tests));
    }
    for key in ["accept", "scan"] {
        if let Some(value) = old.get(key) {
            tail.insert(key.into(), value.clone());
        }
    }
    if !tail.is_empty() {
        let _ = writeln!(
            out,
            "\n# ─── Carried as they were: IXIT entries (in their new tables), test records (to be\n# confirmed: remove `carried` once checked), acceptances and scans ───\n"
        );
        out.push_str(&toml::to_string(&tail).map_err(|error| error.to_string())?);
    }
    Ok(out)
}

/// What `provisor migrate` prints: what was carried, and what a person must do.
pub fn migration_report(migrated: &Migrated, file: &AssessmentFile, written: &str) -> String {
    let mut out = String::new();
    let confirm = migrated
        .statements
        .values()
        .filter(|statement| statement.carried.is_some())
        .count();
    let _ = writeln!(
        out,
        "migrated {} ({}) to {} ({}): {} answer(s), {} statement(s) ({confirm} to confirm), {} test record(s), {} IXIT entr{}",
        file.origin(),
        file.catalog.short_title,
        written,
        migrated.catalog.short_title,
        migrated.answers.len(),
        migrated.statements.len(),
        migrated.tests.len(),
        migrated.ixit.len(),
        if migrated.ixit.len() == 1 { "y" } else { "ies" }
    );
    if migrated.todo.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nWhat needs a person ({}):", migrated.todo.len());
    let mut topic = "";
    for item in &migrated.todo {
        if item.topic != topic {
            topic = item.topic;
            let title = match topic {
                "condition" => "Conditions and features",
                "provision" => "New provisions",
                "statement" => "Statements",
                "test" => "Test records",
                "ixit" => "IXIT",
                _ => "Review",
            };
            let _ = writeln!(out, "\n  {title}");
        }
        let _ = writeln!(out, "  - {}", item.what);
    }
    out
}
