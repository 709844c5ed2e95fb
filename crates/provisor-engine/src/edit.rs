//! Changes to an assessment file made by a program (the team server's forms and API)
//! rather than a text editor, written the way a person would write them: an existing
//! entry is replaced where it stands, a commented placeholder of `provisor init`'s
//! template (`# 12 = true`, `# [provision."5.1-1"]` and its commented lines) is filled
//! in where it stands, a removed entry is commented out where it stood (so the
//! template's question stays above it), and anything else is added at the end of its
//! table or of the file. Comments, order and layout of everything else are kept byte
//! for byte. The result is TOML the engine parses again; whether its content is valid
//! (a known condition, a supported provision) is the engine's parse's to say.

use std::ops::Range;

use toml_edit::{Array, Document, InlineTable, Item, Key, Table, Value};

use crate::lab::{Date, TestVerdict};
use crate::statement::Support;

/// The `[device]` fields a change may set.
pub const DEVICE_FIELDS: &[&str] = &[
    "manufacturer",
    "model",
    "hardware_version",
    "firmware_version",
    "firmware_sha256",
    "description",
    "manufacturer_address",
    "batch",
    "support_period_end",
];

/// A condition's (or feature's) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerEdit {
    /// Yes or no.
    pub answer: bool,
    /// Why, if said.
    pub note: Option<String>,
}

/// A provision's statement of the ICS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEdit {
    /// `yes`, `no` or `not-applicable`.
    pub support: String,
    /// What the manufacturer says.
    pub detail: String,
    /// The evidence files or URLs it cites.
    pub evidence: Vec<String>,
}

/// An assessor's record of a test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEdit {
    /// `pass`, `fail`, `inconclusive` or `not-run`.
    pub verdict: String,
    /// Who ran it.
    pub assessor: Option<String>,
    /// When, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// How.
    pub method: String,
    /// The evidence it cites.
    pub evidence: Vec<String>,
    /// The findings it relies on.
    pub findings: Vec<String>,
    /// Why the verdict differs from what the findings say, if it does.
    pub override_reason: Option<String>,
}

/// The value of an IXIT field as a change writes it. A secret is only ever a reference
/// (an environment variable, or a key of a secrets file), never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IxitFieldEdit {
    /// Text.
    Text(String),
    /// Yes or no.
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// A list of texts.
    List(Vec<String>),
    /// A secret in an environment variable.
    SecretEnv(String),
    /// A secret under a key of a secrets file beside the assessment.
    SecretFile {
        /// The file.
        file: String,
        /// The key.
        key: String,
    },
}

impl IxitFieldEdit {
    fn value(&self) -> Value {
        match self {
            IxitFieldEdit::Text(text) => Value::from(text.as_str()),
            IxitFieldEdit::Boolean(flag) => Value::from(*flag),
            IxitFieldEdit::Integer(number) => Value::from(*number),
            IxitFieldEdit::List(items) => strings(items),
            IxitFieldEdit::SecretEnv(variable) => {
                let mut table = InlineTable::new();
                table.insert("env", Value::from(variable.as_str()));
                table.fmt();
                Value::InlineTable(table)
            }
            IxitFieldEdit::SecretFile { file, key } => {
                let mut table = InlineTable::new();
                table.insert("file", Value::from(file.as_str()));
                table.insert("key", Value::from(key.as_str()));
                table.fmt();
                Value::InlineTable(table)
            }
        }
    }
}

/// One change to an assessment file; `None` removes the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEdit {
    /// A `[device]` field.
    Device {
        /// One of [`DEVICE_FIELDS`].
        field: String,
        /// Its text (`support_period_end`: a date, `YYYY-MM-DD`).
        value: Option<String>,
    },
    /// An answer in `[conditions]` (a condition's number or a feature's letter).
    Condition {
        /// `12`, `a`.
        id: String,
        /// The answer.
        answer: Option<AnswerEdit>,
    },
    /// A `[provision."…"]` statement.
    Statement {
        /// `5.1-1`.
        provision: String,
        /// The statement.
        statement: Option<StatementEdit>,
    },
    /// A `[test."…"]` record.
    Test {
        /// `5.1-1-2`.
        id: String,
        /// The record.
        record: Option<TestEdit>,
    },
    /// An entry of an IXIT table (`[[ixit."1-AuthMech"]]`): a new one (no index),
    /// the index-th one replaced, or removed (no fields).
    Ixit {
        /// `1-AuthMech`.
        table: String,
        /// The entry's position among the table's entries, from 0; none adds one.
        index: Option<usize>,
        /// The fields in the order written; none removes the entry.
        fields: Option<Vec<(String, IxitFieldEdit)>>,
    },
    /// An entry of an array of tables (an `[[accept]]` of triage), added at the end.
    Append {
        /// What it is, for the revision's note (`acceptance of finding f-…`).
        subject: String,
        /// The entry's TOML, `[[…]]` header first.
        text: String,
    },
}

impl FileEdit {
    /// What the change is about, as a person would name it (`condition 12`).
    pub fn subject(&self) -> String {
        match self {
            FileEdit::Device { field, .. } => format!("device {field}"),
            FileEdit::Condition { id, .. } => format!("condition {id}"),
            FileEdit::Statement { provision, .. } => format!("statement of {provision}"),
            FileEdit::Test { id, .. } => format!("test record {id}"),
            FileEdit::Ixit {
                table, index: None, ..
            } => format!("a new entry of IXIT table {table}"),
            FileEdit::Ixit {
                table,
                index: Some(index),
                ..
            } => format!("entry {} of IXIT table {table}", index + 1),
            FileEdit::Append { subject, .. } => subject.clone(),
        }
    }
}

/// `text` with `edit` made, or what is wrong with the change.
pub fn edit_file(text: &str, edit: &FileEdit) -> Result<String, String> {
    let edited = match edit {
        FileEdit::Device { field, value } => {
            if !DEVICE_FIELDS.contains(&field.as_str()) {
                return Err(format!(
                    "the device has no field \"{field}\"; it has {}",
                    DEVICE_FIELDS.join(", ")
                ));
            }
            let rendered = match value {
                None => None,
                Some(date) if field == "support_period_end" => {
                    let parsed = date
                        .parse::<toml_edit::Datetime>()
                        .ok()
                        .filter(|_| Date::parse(date).is_some())
                        .ok_or_else(|| {
                            format!("support_period_end \"{date}\" is not a date: write YYYY-MM-DD")
                        })?;
                    Some(Value::from(parsed).to_string())
                }
                Some(text) => Some(Value::from(text.as_str()).to_string()),
            };
            set_key(text, "device", field, rendered.as_deref())?
        }
        FileEdit::Condition { id, answer } => {
            check_key("condition", id)?;
            let rendered = answer.as_ref().map(|answer| match &answer.note {
                None => Value::from(answer.answer).to_string(),
                Some(note) => {
                    let mut table = InlineTable::new();
                    table.insert("answer", Value::from(answer.answer));
                    table.insert("note", Value::from(note.as_str()));
                    table.fmt();
                    Value::InlineTable(table).to_string()
                }
            });
            set_key(text, "conditions", id, rendered.as_deref())?
        }
        FileEdit::Statement {
            provision,
            statement,
        } => {
            check_key("provision", provision)?;
            let body = match statement {
                None => None,
                Some(statement) => {
                    if Support::parse(&statement.support).is_none() {
                        return Err(format!(
                            "support \"{}\" is not one the assessment file knows: yes, no, not-applicable",
                            statement.support
                        ));
                    }
                    Some(vec![
                        ("support", Value::from(statement.support.as_str())),
                        ("detail", Value::from(statement.detail.as_str())),
                        ("evidence", strings(&statement.evidence)),
                    ])
                }
            };
            set_table(text, "provision", provision, body)?
        }
        FileEdit::Test { id, record } => {
            check_key("test case", id)?;
            let body = match record {
                None => None,
                Some(record) => Some(test_body(record)?),
            };
            set_table(text, "test", id, body)?
        }
        FileEdit::Ixit {
            table,
            index,
            fields,
        } => set_ixit(text, table, *index, fields.as_deref())?,
        FileEdit::Append { text: entry, .. } => {
            let header = entry.trim_start();
            if !header.starts_with("[[") {
                return Err("an appended entry starts with its [[…]] header".to_owned());
            }
            append(text, entry)
        }
    };
    // What is written must read back as TOML; the engine's parse says the rest.
    Document::parse(edited.as_str())
        .map_err(|error| format!("the change would not be valid TOML: {error}"))?;
    Ok(edited)
}

fn test_body(record: &TestEdit) -> Result<Vec<(&'static str, Value)>, String> {
    if TestVerdict::parse(&record.verdict).is_none() {
        return Err(format!(
            "verdict \"{}\" is not one of pass, fail, inconclusive, not-run",
            record.verdict
        ));
    }
    let mut body = vec![("verdict", Value::from(record.verdict.as_str()))];
    if let Some(assessor) = &record.assessor {
        body.push(("assessor", Value::from(assessor.as_str())));
    }
    if let Some(date) = &record.date {
        let parsed = date
            .parse::<toml_edit::Datetime>()
            .ok()
            .filter(|_| Date::parse(date).is_some())
            .ok_or_else(|| format!("date \"{date}\" is not a date: write YYYY-MM-DD"))?;
        body.push(("date", Value::from(parsed)));
    }
    body.push(("method", Value::from(record.method.as_str())));
    body.push(("evidence", strings(&record.evidence)));
    if !record.findings.is_empty() {
        body.push(("findings", strings(&record.findings)));
    }
    if let Some(reason) = &record.override_reason {
        body.push(("override", Value::from(reason.as_str())));
    }
    Ok(body)
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(String::as_str).collect::<Array>())
}

/// An identifier must be one line of printable text: it becomes a key.
fn check_key(what: &str, key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 64 || key.chars().any(char::is_control) {
        return Err(format!(
            "{what} \"{}\" is not an identifier",
            key.escape_debug()
        ));
    }
    Ok(())
}

/// The text of a key as TOML writes it (`12`, `"5.1-1"`).
fn key_text(key: &str) -> String {
    Key::new(key).display_repr().into_owned()
}

fn parse(text: &str) -> Result<Document<&str>, String> {
    Document::parse(text).map_err(|error| format!("the assessment file is not valid TOML: {error}"))
}

/// Sets or removes `key` of the top-level `[table]`.
fn set_key(text: &str, table: &str, key: &str, value: Option<&str>) -> Result<String, String> {
    let document = parse(text)?;
    let line = value.map(|value| format!("{} = {value}", key_text(key)));
    let Some(item) = document.get(table) else {
        return Ok(match line {
            Some(line) => append(text, &format!("[{}]\n{line}\n", key_text(table))),
            None => text.to_owned(),
        });
    };
    let Some(standard) = item.as_table().filter(|table| is_standard(table)) else {
        return rewrite(&document, &[table], key, value.map(str::to_owned));
    };
    if let Some((found, item)) = standard.get_key_value(key) {
        let (Some(key_span), Some(value_span)) = (found.span(), item.span()) else {
            return rewrite(&document, &[table], key, value.map(str::to_owned));
        };
        let span = key_span.start..value_span.end;
        return Ok(match line {
            Some(line) => splice(text, span, &line),
            None => comment_out(text, span),
        });
    }
    let Some(line) = line else {
        return Ok(text.to_owned());
    };
    let header = standard.span().unwrap_or_default();
    let region = header.end..next_header(&document, header.start).unwrap_or(text.len());
    if let Some(placeholder) = placeholder_line(text, region.clone(), key) {
        return Ok(splice(text, placeholder, &line));
    }
    let after = last_entry_end(standard).unwrap_or(header.end);
    let at = line_end(text, after);
    Ok(splice(text, at..at, &format!("\n{line}")))
}

/// Sets or removes the table `[parent."name"]`.
fn set_table(
    text: &str,
    parent: &str,
    name: &str,
    body: Option<Vec<(&str, Value)>>,
) -> Result<String, String> {
    let document = parse(text)?;
    let header = format!("[{}.{}]", key_text(parent), key_text(name));
    let rendered = body.as_ref().map(|body| {
        let mut rendered = header.clone();
        for (key, value) in body {
            rendered.push('\n');
            rendered.push_str(&format!("{} = {value}", key_text(key)));
        }
        rendered
    });
    let existing = document
        .get(parent)
        .and_then(Item::as_table_like)
        .and_then(|table| table.get(name));
    if let Some(item) = existing {
        let standard = item
            .as_table()
            .filter(|table| is_standard(table) && table.span().is_some());
        let Some(table) = standard else {
            return rewrite_table(&document, parent, name, body);
        };
        let start = table.span().unwrap_or_default().start;
        let end = last_entry_end(table).unwrap_or(start);
        let span = start..line_end(text, end);
        return Ok(match rendered {
            Some(rendered) => splice(text, span, &rendered),
            None => comment_out(text, span),
        });
    }
    let Some(rendered) = rendered else {
        return Ok(text.to_owned());
    };
    if let Some(placeholder) = placeholder_table(text, parent, name) {
        return Ok(splice(text, placeholder, &rendered));
    }
    Ok(append(text, &format!("{rendered}\n")))
}

/// What carrying an assessment to the next release changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarriedForward {
    /// The file as the next release's assessment starts.
    pub text: String,
    /// The condition answers marked to confirm.
    pub answers: usize,
    /// The statements marked to confirm.
    pub statements: usize,
    /// The test records marked to confirm.
    pub tests: usize,
    /// The scans left behind (they are of the earlier firmware).
    pub scans: usize,
}

/// An assessment file carried to the next firmware release of the same device: the
/// firmware version set (and its image's hash removed), every condition answer marked
/// `carried = true` and every statement and test record `carried` with its own id (they
/// count, and pages and reports flag them "carried, confirm" until a person saves them
/// again; an approval waits for that: new firmware may add an interface or drop an
/// update mechanism), the scans of the earlier firmware and the review removed. IXIT,
/// acceptances and everything else stay as they were, comments included.
pub fn carry_forward(text: &str, firmware_version: &str) -> Result<CarriedForward, String> {
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|error| format!("the assessment file is not valid TOML: {error}"))?;
    let mut carried = CarriedForward::default();
    if let Some(device) = document.get_mut("device").and_then(Item::as_table_like_mut) {
        device.insert("firmware_version", toml_edit::value(firmware_version));
        device.remove("firmware_sha256");
    }
    if let Some(answers) = document
        .get_mut("conditions")
        .and_then(Item::as_table_like_mut)
    {
        for (_, answer) in answers.iter_mut() {
            let marked = match answer.as_value_mut() {
                Some(Value::Boolean(value)) => {
                    let mut table = InlineTable::new();
                    table.insert("answer", Value::from(*value.value()));
                    table.insert("carried", Value::from(true));
                    table.fmt();
                    let decor = value.decor().clone();
                    let mut replaced = Value::InlineTable(table);
                    *replaced.decor_mut() = decor;
                    *answer = Item::Value(replaced);
                    true
                }
                Some(Value::InlineTable(table)) => {
                    table.insert("carried", Value::from(true));
                    table.fmt();
                    true
                }
                _ => match answer.as_table_like_mut() {
                    Some(table) => {
                        table.insert("carried", toml_edit::value(true));
                        true
                    }
                    None => false,
                },
            };
            carried.answers += usize::from(marked);
        }
    }
    for (key, count) in [
        ("provision", &mut carried.statements),
        ("test", &mut carried.tests),
    ] {
        let Some(entries) = document.get_mut(key).and_then(Item::as_table_like_mut) else {
            continue;
        };
        for (id, entry) in entries.iter_mut() {
            let id = id.get().to_owned();
            if let Some(entry) = entry.as_table_like_mut() {
                if entry.get("carried").is_none() {
                    entry.insert("carried", toml_edit::value(id));
                }
                *count += 1;
            }
        }
    }
    if let Some(scans) = document.remove("scan") {
        carried.scans = scans.as_array_of_tables().map_or(1, |scans| scans.len());
    }
    document.remove("review");
    carried.text = document.to_string();
    Document::parse(carried.text.as_str())
        .map_err(|error| format!("the carried file would not be valid TOML: {error}"))?;
    Ok(carried)
}

/// Adds, replaces or removes an entry of `[[ixit."table"]]`.
fn set_ixit(
    text: &str,
    table: &str,
    index: Option<usize>,
    fields: Option<&[(String, IxitFieldEdit)]>,
) -> Result<String, String> {
    check_key("IXIT table", table)?;
    let mut seen = std::collections::BTreeSet::new();
    for (name, _) in fields.unwrap_or_default() {
        check_key("IXIT field", name)?;
        if !seen.insert(name.as_str()) {
            return Err(format!("IXIT field \"{name}\" is given twice"));
        }
    }
    let header = format!("[[ixit.{}]]", key_text(table));
    let rendered = fields.map(|fields| {
        let mut rendered = header.clone();
        for (name, value) in fields {
            rendered.push_str(&format!("\n{} = {}", key_text(name), value.value()));
        }
        rendered
    });
    let document = parse(text)?;
    let entries = document
        .get("ixit")
        .and_then(Item::as_table_like)
        .and_then(|tables| tables.get(table));
    let Some(index) = index else {
        let Some(rendered) = rendered else {
            return Err("a new IXIT entry needs its fields".to_owned());
        };
        // After the table's last entry, so that its entries stay together.
        if let Some(array) = entries.and_then(Item::as_array_of_tables)
            && let Some(last) = array.iter().last()
            && let Some(span) = last.span()
        {
            let end = line_end(text, last_entry_end(last).unwrap_or(span.end));
            return Ok(splice(text, end..end, &format!("\n\n{rendered}")));
        }
        return Ok(append(text, &format!("{rendered}\n")));
    };
    let entry = entries
        .and_then(Item::as_array_of_tables)
        .and_then(|array| array.get(index))
        .ok_or_else(|| {
            format!(
                "IXIT table {table} has no entry {} to change; reload the assessment",
                index + 1
            )
        })?;
    let Some(span) = entry.span() else {
        return Err(format!(
            "entry {} of IXIT table {table} cannot be located",
            index + 1
        ));
    };
    let end = line_end(text, last_entry_end(entry).unwrap_or(span.end));
    Ok(match rendered {
        Some(rendered) => splice(text, span.start..end, &rendered),
        None => comment_out(text, span.start..end),
    })
}

/// Whether a table is written as a `[header]` of its own (not inline, not made by
/// dotted keys or by a sub-table's header).
fn is_standard(table: &Table) -> bool {
    !table.is_implicit() && !table.is_dotted()
}

/// Where the last key-value of a table ends.
fn last_entry_end(table: &Table) -> Option<usize> {
    table
        .iter()
        .filter_map(|(key, _)| table.get_key_value(key))
        .filter_map(|(key, item)| Some(key.span()?.end.max(item.span()?.end)))
        .max()
}

/// The start of the first table header after `after`.
fn next_header(document: &Document<&str>, after: usize) -> Option<usize> {
    let mut starts = Vec::new();
    collect_headers(document.as_table(), &mut starts);
    starts.into_iter().filter(|start| *start > after).min()
}

fn collect_headers(table: &Table, starts: &mut Vec<usize>) {
    for (_, item) in table.iter() {
        match item {
            Item::Table(table) => {
                if let Some(span) = table.span().filter(|_| is_standard(table)) {
                    starts.push(span.start);
                }
                collect_headers(table, starts);
            }
            Item::ArrayOfTables(array) => {
                for table in array.iter() {
                    if let Some(span) = table.span() {
                        starts.push(span.start);
                    }
                    collect_headers(table, starts);
                }
            }
            _ => {}
        }
    }
}

/// The line `# key = …` in `region`, the template's placeholder of an answer.
fn placeholder_line(text: &str, region: Range<usize>, key: &str) -> Option<Range<usize>> {
    let mut at = region.start;
    for line in text.get(region.clone())?.split_inclusive('\n') {
        let start = at;
        at += line.len();
        if let Some(found) = commented_key(line)
            && found == key
        {
            let body = line.trim_end_matches(['\n', '\r']);
            return Some(start + (line.len() - line.trim_start().len())..start + body.len());
        }
    }
    None
}

/// The key of a commented-out `key = value` line (`# 12 = true` → `12`).
fn commented_key(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let (key, _) = rest.split_once('=')?;
    let keys = Key::parse(key.trim()).ok()?;
    match keys.as_slice() {
        [key] => Some(key.get().to_owned()),
        _ => None,
    }
}

/// The template's commented table `# [parent."name"]` and the commented `key = value`
/// lines under it.
fn placeholder_table(text: &str, parent: &str, name: &str) -> Option<Range<usize>> {
    let mut at = 0;
    let mut found: Option<Range<usize>> = None;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body_end = start + line.trim_end_matches(['\n', '\r']).len();
        match &mut found {
            None => {
                let Some(header) = line.trim_start().strip_prefix('#') else {
                    continue;
                };
                let header = header.trim();
                let Some(inside) = header
                    .strip_prefix('[')
                    .and_then(|rest| rest.strip_suffix(']'))
                    .filter(|inside| !inside.starts_with('['))
                else {
                    continue;
                };
                let Ok(keys) = Key::parse(inside.trim()) else {
                    continue;
                };
                if let [first, second] = keys.as_slice()
                    && first.get() == parent
                    && second.get() == name
                {
                    found = Some(start + (line.len() - line.trim_start().len())..body_end);
                }
            }
            Some(block) => {
                if commented_key(line).is_some() {
                    block.end = body_end;
                } else {
                    break;
                }
            }
        }
    }
    found
}

/// Where the line holding `at` ends (before its newline).
fn line_end(text: &str, at: usize) -> usize {
    text[at..]
        .find('\n')
        .map_or(text.len(), |offset| at + offset)
}

/// Where the line holding `at` starts.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |offset| offset + 1)
}

fn splice(text: &str, span: Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..span.start]);
    out.push_str(with);
    out.push_str(&text[span.end..]);
    out
}

/// The lines holding `span`, each commented out with `# `.
fn comment_out(text: &str, span: Range<usize>) -> String {
    let start = line_start(text, span.start);
    let end = line_end(text, span.end);
    let commented: Vec<String> = text[start..end]
        .split('\n')
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            format!("{}# {}", &line[..indent], &line[indent..])
        })
        .collect();
    splice(text, start..end, &commented.join("\n"))
}

/// `text` with a block added at its end, after a blank line.
fn append(text: &str, block: &str) -> String {
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(block);
    out
}

/// The change made through toml_edit's own model, for layouts this module does not
/// edit in place (an inline or dotted table): correct, but the table's layout is
/// toml_edit's.
fn rewrite(
    document: &Document<&str>,
    path: &[&str],
    key: &str,
    value: Option<String>,
) -> Result<String, String> {
    let mut editable = document.clone().into_mut();
    let mut table = editable.as_table_mut() as &mut dyn toml_edit::TableLike;
    for part in path {
        table = table
            .get_mut(part)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| format!("`{}` is not a table", path.join(".")))?;
    }
    match value {
        Some(value) => {
            let parsed: Value = value
                .parse()
                .map_err(|error| format!("cannot write {value}: {error}"))?;
            table.insert(key, Item::Value(parsed));
        }
        None => {
            table.remove(key);
        }
    }
    Ok(editable.to_string())
}

fn rewrite_table(
    document: &Document<&str>,
    parent: &str,
    name: &str,
    body: Option<Vec<(&str, Value)>>,
) -> Result<String, String> {
    let mut editable = document.clone().into_mut();
    let table = editable
        .get_mut(parent)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("`{parent}` is not a table"))?;
    match body {
        Some(body) => {
            let mut new = Table::new();
            for (key, value) in body {
                new.insert(key, Item::Value(value));
            }
            table.insert(name, Item::Table(new));
        }
        None => {
            table.remove(name);
        }
    }
    Ok(editable.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"# An assessment.

edition = "en303645-v3.1.3"

[device]
# manufacturer = "Acme"
model = "Cam"   # the model

[conditions]

# 12) an update mechanism is implemented;
# decides: 5.3-8
# 12 = true

# 14) not constrained
14 = false

# 5.1-1 (M F (a))
# Where passwords are used ...
# [provision."5.1-1"]
# support = "yes"
# detail = ""
# evidence = []

# 5.1-2 (M F (b))
[provision."5.1-2"]
support = "no"
detail = "old"   # keep me? no: the table is replaced
evidence = []

[[scan]]
file = "scans/a.json"
"#;

    fn condition(id: &str, answer: Option<(bool, Option<&str>)>) -> FileEdit {
        FileEdit::Condition {
            id: id.into(),
            answer: answer.map(|(answer, note)| AnswerEdit {
                answer,
                note: note.map(str::to_owned),
            }),
        }
    }

    fn statement(provision: &str, support: &str, detail: &str) -> FileEdit {
        FileEdit::Statement {
            provision: provision.into(),
            statement: Some(StatementEdit {
                support: support.into(),
                detail: detail.into(),
                evidence: vec!["docs/a policy.pdf".into()],
            }),
        }
    }

    /// The lines of `after` that differ from `before`, as (removed, added).
    fn changed(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
        let old: Vec<&str> = before.lines().collect();
        let new: Vec<&str> = after.lines().collect();
        let removed = old
            .iter()
            .filter(|line| !new.contains(line))
            .map(|line| line.to_string())
            .collect();
        let added = new
            .iter()
            .filter(|line| !old.contains(line))
            .map(|line| line.to_string())
            .collect();
        (removed, added)
    }

    #[test]
    fn a_placeholder_answer_is_filled_in_where_it_stands() {
        let edited = edit_file(TEMPLATE, &condition("12", Some((true, None)))).unwrap();
        assert_eq!(
            changed(TEMPLATE, &edited),
            (vec!["# 12 = true".into()], vec!["12 = true".into()])
        );
        assert!(edited.contains("# decides: 5.3-8\n12 = true\n"));
    }

    #[test]
    fn an_existing_answer_is_replaced_and_a_removed_one_commented_out() {
        let edited = edit_file(
            TEMPLATE,
            &condition("14", Some((true, Some("a \"quoted\" why")))),
        )
        .unwrap();
        assert!(
            edited.contains(
                "# 14) not constrained\n14 = { answer = true, note = 'a \"quoted\" why' }\n"
            ),
            "{edited}"
        );
        let removed = edit_file(&edited, &condition("14", None)).unwrap();
        assert!(
            removed.contains("# 14) not constrained\n# 14 = { answer = true"),
            "{removed}"
        );
        // Set again, the commented line is filled in.
        let again = edit_file(&removed, &condition("14", Some((false, None)))).unwrap();
        assert!(
            again.contains("# 14) not constrained\n14 = false\n"),
            "{again}"
        );
    }

    #[test]
    fn a_new_answer_without_placeholder_goes_after_the_last_one() {
        let edited = edit_file(TEMPLATE, &condition("a", Some((false, None)))).unwrap();
        assert!(edited.contains("14 = false\na = false\n"), "{edited}");
        let bare = "edition = \"en303645-v3.1.3\"\n";
        let edited = edit_file(bare, &condition("12", Some((true, None)))).unwrap();
        assert_eq!(
            edited,
            "edition = \"en303645-v3.1.3\"\n\n[conditions]\n12 = true\n"
        );
    }

    #[test]
    fn a_device_field_keeps_its_trailing_comment() {
        let edited = edit_file(
            TEMPLATE,
            &FileEdit::Device {
                field: "model".into(),
                value: Some("Cam 2".into()),
            },
        )
        .unwrap();
        assert!(
            edited.contains("model = \"Cam 2\"   # the model\n"),
            "{edited}"
        );
        let edited = edit_file(
            TEMPLATE,
            &FileEdit::Device {
                field: "manufacturer".into(),
                value: Some("Beta".into()),
            },
        )
        .unwrap();
        assert!(
            edited.contains("[device]\nmanufacturer = \"Beta\"\n"),
            "{edited}"
        );
        let dated = edit_file(
            TEMPLATE,
            &FileEdit::Device {
                field: "support_period_end".into(),
                value: Some("2031-06-30".into()),
            },
        )
        .unwrap();
        assert!(
            dated.contains("support_period_end = 2031-06-30\n"),
            "{dated}"
        );
        for (field, value) in [("colour", "red"), ("support_period_end", "June 2031")] {
            assert!(
                edit_file(
                    TEMPLATE,
                    &FileEdit::Device {
                        field: field.into(),
                        value: Some(value.into()),
                    },
                )
                .is_err()
            );
        }
    }

    #[test]
    fn statements_fill_the_template_replace_and_comment_out() {
        let edited = edit_file(TEMPLATE, &statement("5.1-1", "yes", "unique per device")).unwrap();
        assert!(
            edited.contains(
                "# Where passwords are used ...\n[provision.\"5.1-1\"]\nsupport = \"yes\"\ndetail = \"unique per device\"\nevidence = [\"docs/a policy.pdf\"]\n\n# 5.1-2"
            ),
            "{edited}"
        );
        let replaced = edit_file(
            &edited,
            &statement("5.1-2", "not-applicable", "line one\nline two"),
        )
        .unwrap();
        assert!(
            replaced.contains(
                "# 5.1-2 (M F (b))\n[provision.\"5.1-2\"]\nsupport = \"not-applicable\"\ndetail = \"\"\"\nline one\nline two\"\"\"\nevidence = [\"docs/a policy.pdf\"]\n\n[[scan]]"
            ),
            "{replaced}"
        );
        let removed = edit_file(
            &replaced,
            &FileEdit::Statement {
                provision: "5.1-2".into(),
                statement: None,
            },
        )
        .unwrap();
        assert!(
            removed.contains("# [provision.\"5.1-2\"]\n# support = \"not-applicable\"\n"),
            "{removed}"
        );
        let back = edit_file(&removed, &statement("5.1-2", "no", "again")).unwrap();
        assert!(
            back.contains("[provision.\"5.1-2\"]\nsupport = \"no\"\ndetail = \"again\""),
            "{back}"
        );
        assert!(!back.contains("# support = \"not-applicable\""), "{back}");
        let new = edit_file(TEMPLATE, &statement("5.3-1", "no", "")).unwrap();
        assert!(new.ends_with("file = \"scans/a.json\"\n\n[provision.\"5.3-1\"]\nsupport = \"no\"\ndetail = \"\"\nevidence = [\"docs/a policy.pdf\"]\n"), "{new}");
        assert!(edit_file(TEMPLATE, &statement("5.3-1", "maybe", "")).is_err());
    }

    #[test]
    fn test_records_are_written_with_dates() {
        let record = TestEdit {
            verdict: "pass".into(),
            assessor: Some("A. Assessor".into()),
            date: Some("2026-11-30".into()),
            method: "tried the label password".into(),
            evidence: vec![],
            findings: vec!["f1".into()],
            override_reason: None,
        };
        let edited = edit_file(
            TEMPLATE,
            &FileEdit::Test {
                id: "5.1-1-1".into(),
                record: Some(record.clone()),
            },
        )
        .unwrap();
        assert!(
            edited.contains("[test.\"5.1-1-1\"]\nverdict = \"pass\"\nassessor = \"A. Assessor\"\ndate = 2026-11-30\nmethod = \"tried the label password\"\nevidence = []\nfindings = [\"f1\"]\n"),
            "{edited}"
        );
        for bad in [
            TestEdit {
                verdict: "passed".into(),
                ..record.clone()
            },
            TestEdit {
                date: Some("30/11/2026".into()),
                ..record.clone()
            },
        ] {
            assert!(
                edit_file(
                    TEMPLATE,
                    &FileEdit::Test {
                        id: "5.1-1-1".into(),
                        record: Some(bad),
                    },
                )
                .is_err()
            );
        }
    }

    #[test]
    fn inline_tables_are_edited_through_the_model() {
        let text = "edition = \"en303645-v3.1.3\"\nconditions = { 12 = true }\nprovision.\"5.1-1\" = { support = \"no\" }\n";
        let edited = edit_file(text, &condition("14", Some((false, None)))).unwrap();
        assert!(edited.contains("14 = false"), "{edited}");
        assert!(edited.contains("12 = true"), "{edited}");
        let edited = edit_file(&edited, &statement("5.1-1", "yes", "now")).unwrap();
        let document: toml_edit::DocumentMut = edited.parse().unwrap();
        assert_eq!(
            document["provision"]["5.1-1"]["support"].as_str(),
            Some("yes"),
            "{edited}"
        );
    }

    #[test]
    fn identifiers_must_be_one_line() {
        assert!(edit_file(TEMPLATE, &condition("1\n2", Some((true, None)))).is_err());
        assert!(edit_file(TEMPLATE, &condition("", Some((true, None)))).is_err());
    }

    #[test]
    fn ixit_entries_are_added_together_replaced_and_commented_out() {
        let auth = |id: &str| {
            vec![
                ("id".to_owned(), IxitFieldEdit::Text(id.to_owned())),
                ("factors".to_owned(), IxitFieldEdit::Integer(2)),
                (
                    "admin_password".to_owned(),
                    IxitFieldEdit::SecretEnv("CAM_ADMIN".into()),
                ),
            ]
        };
        let add = |text: &str, table: &str, id: &str| {
            edit_file(
                text,
                &FileEdit::Ixit {
                    table: table.into(),
                    index: None,
                    fields: Some(auth(id)),
                },
            )
            .unwrap()
        };
        let first = add(TEMPLATE, "1-AuthMech", "web-login");
        assert!(
            first.ends_with(
                "\n[[ixit.1-AuthMech]]\nid = \"web-login\"\nfactors = 2\nadmin_password = { env = \"CAM_ADMIN\" }\n"
            ),
            "{first}"
        );
        let other = add(&first, "15-Intf", "eth0");
        // A second entry of the first table goes after its first, not at the end.
        let second = add(&other, "1-AuthMech", "app-pairing");
        let web = second.find("\"web-login\"").unwrap();
        let app = second.find("\"app-pairing\"").unwrap();
        let interface = second.find("\"eth0\"").unwrap();
        assert!(web < app && app < interface, "{second}");
        let replaced = edit_file(
            &second,
            &FileEdit::Ixit {
                table: "1-AuthMech".into(),
                index: Some(1),
                fields: Some(vec![("id".to_owned(), IxitFieldEdit::Text("app".into()))]),
            },
        )
        .unwrap();
        assert!(
            replaced.contains("[[ixit.1-AuthMech]]\nid = \"app\"\n\n[[ixit.15-Intf]]"),
            "{replaced}"
        );
        let removed = edit_file(
            &replaced,
            &FileEdit::Ixit {
                table: "1-AuthMech".into(),
                index: Some(0),
                fields: None,
            },
        )
        .unwrap();
        assert!(
            removed.contains("# [[ixit.1-AuthMech]]\n# id = \"web-login\"\n# factors = 2\n"),
            "{removed}"
        );
        let parsed = toml::from_str::<toml::Table>(&removed).unwrap();
        assert_eq!(parsed["ixit"]["1-AuthMech"].as_array().unwrap().len(), 1);
        assert!(
            edit_file(
                &removed,
                &FileEdit::Ixit {
                    table: "1-AuthMech".into(),
                    index: Some(1),
                    fields: None,
                },
            )
            .unwrap_err()
            .contains("no entry 2")
        );
        let twice = vec![
            ("id".to_owned(), IxitFieldEdit::Text("a".into())),
            ("id".to_owned(), IxitFieldEdit::Text("b".into())),
        ];
        assert!(
            edit_file(
                TEMPLATE,
                &FileEdit::Ixit {
                    table: "1-AuthMech".into(),
                    index: None,
                    fields: Some(twice),
                },
            )
            .is_err()
        );
    }

    #[test]
    fn an_assessment_is_carried_to_the_next_release_with_its_statements_to_confirm() {
        let text = "# Camera\nedition = \"en303645-v3.1.3\"\n\n[device]\nmanufacturer = \"Acme\"\nfirmware_version = \"3.2.0\" # shipped\nfirmware_sha256 = \"ab\"\n\n[conditions]\n12 = true # ships an updater\na = { answer = true, note = \"web UI\" }\n[conditions.3]\nanswer = false\n\n# The password policy.\n[provision.\"5.1-1\"]\nsupport = \"yes\"\ndetail = \"unique\"\n\n[provision.\"5.1-2\"]\nsupport = \"yes\"\ncarried = \"5.1-2\"\n\n[[scan]]\nfile = \"scans/old.json\"\n\n[review]\ndecision = \"approved\"\n";
        let carried = carry_forward(text, "3.3.0").unwrap();
        assert_eq!(
            (
                carried.answers,
                carried.statements,
                carried.tests,
                carried.scans
            ),
            (3, 2, 0, 1)
        );
        let out = &carried.text;
        assert!(out.starts_with("# Camera\n"), "{out}");
        assert!(out.contains("firmware_version = \"3.3.0\""), "{out}");
        assert!(
            !out.contains("firmware_sha256")
                && !out.contains("[[scan]]")
                && !out.contains("[review]")
        );
        assert!(
            out.contains("# The password policy.\n[provision.\"5.1-1\"]\nsupport = \"yes\"\ndetail = \"unique\"\ncarried = \"5.1-1\""),
            "{out}"
        );
        assert_eq!(out.matches("carried = \"5.1-2\"").count(), 1, "{out}");
        assert!(
            out.contains("[conditions]\n12 = { answer = true, carried = true } # ships an updater\na = { answer = true, note = \"web UI\", carried = true }\n"),
            "{out}"
        );
        let parsed = crate::parse(out, "carried.toml").unwrap();
        let carried_answers: Vec<(String, bool)> = parsed
            .answers
            .iter()
            .map(|(id, answer)| (id.to_string(), answer.carried))
            .collect();
        assert_eq!(
            carried_answers,
            [("12".into(), true), ("3".into(), true), ("a".into(), true)]
        );
    }

    /// The example device's V3.1.3 file, edited: the engine reads the change and
    /// nothing else moved.
    #[test]
    fn the_example_file_reads_back_with_only_the_change() {
        let text = include_str!("../../../examples/smartcam/assessment-v3.1.3.toml");
        let before = crate::parse(text, "assessment-v3.1.3.toml").unwrap();
        let edits = [
            condition("12", Some((false, Some("no updates after all")))),
            statement("5.1-1", "no", "changed"),
            FileEdit::Device {
                field: "batch".into(),
                value: Some("units from 2027".into()),
            },
        ];
        let mut edited = text.to_owned();
        for edit in &edits {
            edited = edit_file(&edited, edit).unwrap();
        }
        let after = crate::parse(&edited, "assessment-v3.1.3.toml").unwrap();
        // Each change replaced its lines one for one: the rest is where it was.
        let old: Vec<&str> = text.lines().collect();
        let new: Vec<&str> = edited.lines().collect();
        assert_eq!(old.len(), new.len());
        let differing: Vec<(&str, &str)> = old
            .iter()
            .zip(&new)
            .filter(|(old, new)| old != new)
            .map(|(old, new)| (*old, *new))
            .collect();
        assert_eq!(differing.len(), 5, "{differing:#?}");
        assert_ne!(before.source(), after.source());
        assert!(edited.contains("12 = { answer = false, note = \"no updates after all\" }"));
    }

    proptest::proptest! {
        /// Whatever the text, it reads back as written.
        #[test]
        fn any_text_reads_back(note in "\\PC*", detail in "(\\PC|\n|\t|\r\n)*") {
            let edited = edit_file(TEMPLATE, &condition("14", Some((true, Some(&note))))).unwrap();
            let edited = edit_file(&edited, &statement("5.1-2", "yes", &detail)).unwrap();
            let document: toml_edit::DocumentMut = edited.parse().unwrap();
            proptest::prop_assert_eq!(document["conditions"]["14"]["note"].as_str(), Some(note.as_str()));
            proptest::prop_assert_eq!(document["provision"]["5.1-2"]["detail"].as_str(), Some(detail.as_str()));
        }
    }
}
