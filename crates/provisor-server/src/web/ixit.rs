//! The IXIT, one table at a time: the implementation extra information for testing a
//! manufacturer gives a lab (ETSI TS 103 701), entered per table of the assessment's
//! edition with each field in its type (text, yes/no, a number, a list; a secret only
//! as a reference to where it is kept, never its value), each entry added, changed or
//! removed as the next revision (`provisor_engine::FileEdit::Ixit`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use provisor_catalog::FieldType;
use provisor_engine::{FileEdit, IxitFieldEdit, IxitValue, SecretRef};
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::AppState;
use crate::api::assessments::{judged_revision, visible};
use crate::api::changes::make_changes;
use crate::auth::WRITERS;

/// A table in the list of tables.
struct TableLink {
    id: String,
    title: String,
    entries: usize,
}

/// A field of the form, with the value it shows.
struct FieldInput {
    name: String,
    label: String,
    kind: &'static str,
    value: String,
}

/// An entry as the table shows it.
struct EntryRow {
    index: usize,
    /// Whether the form below changes it.
    editing: bool,
    name: String,
    cells: Vec<String>,
    line: Option<u32>,
}

#[derive(Template)]
#[template(path = "ixit.html")]
struct IxitPage {
    nav: Nav,
    id: String,
    product: String,
    version: String,
    revision: i64,
    can_edit: bool,
    tables: Vec<TableLink>,
    table: String,
    title: String,
    columns: Vec<String>,
    entries: Vec<EntryRow>,
    /// The entry the form changes, if not a new one.
    editing: Option<usize>,
    entry_id: String,
    inputs: Vec<FieldInput>,
    filled: usize,
    message: Option<String>,
}

/// `?table=…&entry=…`.
#[derive(Debug, Default, Deserialize)]
pub struct Which {
    #[serde(default)]
    table: String,
    #[serde(default)]
    entry: Option<usize>,
}

/// A field's name as people read it (`brute_force_prevention` → `Brute force
/// prevention`).
fn label_of(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// How the form writes a value back into its input.
fn input_text(value: &IxitValue) -> String {
    match value {
        IxitValue::Text(text) => text.clone(),
        IxitValue::Boolean(flag) => if *flag { "yes" } else { "no" }.to_owned(),
        IxitValue::Integer(number) => number.to_string(),
        IxitValue::List(items) => items.join("\n"),
        IxitValue::Secret(SecretRef::Env(variable)) => variable.clone(),
        IxitValue::Secret(SecretRef::File { file, key }) => format!("{file}#{key}"),
    }
}

fn kind_name(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Text => "text",
        FieldType::Boolean => "boolean",
        FieldType::Integer => "integer",
        FieldType::List => "list",
        FieldType::Secret => "secret",
    }
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: &str,
    which: &Which,
    message: Option<String>,
) -> Result<Response, PageError> {
    let super::Shown {
        record,
        release,
        product,
    } = super::shown(state, signed, id).await?;
    let judged = judged_revision(state, &record, None).await?;
    let assessment = &judged.assessment;
    let catalog = assessment.catalog;
    let tables: Vec<TableLink> = catalog
        .ixit
        .iter()
        .map(|table| TableLink {
            id: table.id.clone(),
            title: table.title.clone(),
            entries: assessment
                .ixit
                .iter()
                .filter(|entry| entry.table == table.id)
                .count(),
        })
        .collect();
    let filled = tables.iter().filter(|table| table.entries > 0).count();
    let Some(table) = catalog
        .ixit_table(&which.table)
        .or_else(|| catalog.ixit.first())
    else {
        return Err(PageError::new(
            axum::http::StatusCode::NOT_FOUND,
            "No IXIT tables",
            "This edition has no IXIT tables.",
        ));
    };
    let entries_of: Vec<&provisor_engine::IxitEntry> = assessment
        .ixit
        .iter()
        .filter(|entry| entry.table == table.id)
        .collect();
    // The columns: the table's fields, then any others its entries use.
    let mut columns: Vec<String> = table
        .fields
        .iter()
        .map(|field| field.name.clone())
        .collect();
    for entry in &entries_of {
        for name in entry.fields.keys() {
            if name != "id" && !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    let editing = which
        .entry
        .filter(|index| entries_of.iter().any(|entry| entry.index == *index));
    let entries = entries_of
        .iter()
        .map(|entry| EntryRow {
            index: entry.index,
            editing: editing == Some(entry.index),
            name: entry.name(),
            cells: columns
                .iter()
                .map(|column| {
                    entry
                        .fields
                        .get(column)
                        .map(ToString::to_string)
                        .unwrap_or_default()
                })
                .collect(),
            line: entry.line,
        })
        .collect();
    let current = editing.and_then(|index| entries_of.iter().find(|entry| entry.index == index));
    let inputs = columns
        .iter()
        .map(|name| {
            let kind = table
                .field(name)
                .map(|field| field.kind)
                .or_else(|| {
                    current
                        .and_then(|entry| entry.fields.get(name))
                        .map(IxitValue::kind)
                })
                .unwrap_or(FieldType::Text);
            FieldInput {
                name: name.clone(),
                label: label_of(name),
                kind: kind_name(kind),
                value: current
                    .and_then(|entry| entry.fields.get(name))
                    .map(input_text)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let can_edit = signed.caller.may_write(&record)
        && record.approved_revision != Some(record.current_revision);
    Ok(render(&IxitPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        product: format!("{} {}", product.name, product.model),
        version: release.version,
        revision: record.current_revision,
        can_edit,
        tables,
        table: table.id.clone(),
        title: table.title.clone(),
        columns: columns.iter().map(|name| label_of(name)).collect(),
        entries,
        editing,
        entry_id: current
            .and_then(|entry| entry.text("id"))
            .unwrap_or_default()
            .to_owned(),
        inputs,
        filled,
        message,
    }))
}

/// The IXIT page of one table.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(which): Query<Which>,
) -> Result<Response, PageError> {
    show(&state, &signed, &id, &which, None).await
}

/// Reads the form's value of a field of `kind`; `None` when it is left empty.
fn field_value(name: &str, kind: FieldType, text: &str) -> Result<Option<IxitFieldEdit>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let label = label_of(name);
    Ok(Some(match kind {
        FieldType::Text => IxitFieldEdit::Text(text.to_owned()),
        FieldType::Boolean => match text {
            "yes" => IxitFieldEdit::Boolean(true),
            "no" => IxitFieldEdit::Boolean(false),
            _ => return Err(format!("{label}: choose yes or no")),
        },
        FieldType::Integer => IxitFieldEdit::Integer(
            text.parse()
                .map_err(|_| format!("{label}: \"{text}\" is not a whole number"))?,
        ),
        FieldType::List => IxitFieldEdit::List(
            text.split(['\n', ','])
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        FieldType::Secret => match text.split_once('#') {
            Some((file, key)) if !file.trim().is_empty() && !key.trim().is_empty() => {
                IxitFieldEdit::SecretFile {
                    file: file.trim().to_owned(),
                    key: key.trim().to_owned(),
                }
            }
            None if text
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !text.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                IxitFieldEdit::SecretEnv(text.to_owned())
            }
            _ => {
                return Err(format!(
                    "{label} is a secret: give where it is kept, an environment variable (CAMERA_ADMIN_PASSWORD) or a secrets file and key (secrets.toml#camera.admin), never the secret itself"
                ));
            }
        },
    }))
}

/// Adds, changes or removes an entry of a table.
pub async fn save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value = |key: &str| {
        form.iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
            .unwrap_or("")
    };
    super::check_csrf(&signed.caller, value("csrf"))?;
    let record = visible(&state, &signed.caller, &id, WRITERS).await?;
    let table_id = value("table").to_owned();
    let index = value("index").parse::<usize>().ok();
    let which = Which {
        table: table_id.clone(),
        entry: index,
    };
    let refuse = |message: String| {
        let state = state.clone();
        let which = &which;
        let signed = &signed;
        let id = id.clone();
        async move {
            Ok::<Response, PageError>(super::with_status(
                show(&state, signed, &id, which, Some(message)).await?,
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    };
    let Some(catalog) = provisor_catalog::edition(&record.edition) else {
        return refuse(format!("edition {} is not known", record.edition)).await;
    };
    let Some(table) = catalog.ixit_table(&table_id) else {
        return refuse(format!("{table_id:?} is not an IXIT table of this edition")).await;
    };
    let fields = if value("remove") == "1" {
        if index.is_none() {
            return refuse("Choose the entry to remove.".to_owned()).await;
        }
        None
    } else {
        let mut fields = Vec::new();
        let entry_id = value("id").trim();
        if !entry_id.is_empty() {
            fields.push(("id".to_owned(), IxitFieldEdit::Text(entry_id.to_owned())));
        }
        for (key, text) in &form {
            let Some(name) = key.strip_prefix("field.") else {
                continue;
            };
            if name == "id" || fields.iter().any(|(known, _)| known == name) {
                continue;
            }
            let kind = table.field(name).map_or_else(
                || match value(&format!("kind.{name}")) {
                    "boolean" => FieldType::Boolean,
                    "integer" => FieldType::Integer,
                    "list" => FieldType::List,
                    "secret" => FieldType::Secret,
                    _ => FieldType::Text,
                },
                |field| field.kind,
            );
            match field_value(name, kind, text) {
                Ok(Some(edit)) => fields.push((name.to_owned(), edit)),
                Ok(None) => {}
                Err(message) => return refuse(message).await,
            }
        }
        if fields.is_empty() {
            return refuse("Fill in at least one field.".to_owned()).await;
        }
        Some(fields)
    };
    let based_on = value("based_on").parse::<i64>().unwrap_or(-1);
    let edit = FileEdit::Ixit {
        table: table.id.clone(),
        index,
        fields,
    };
    match make_changes(
        &state,
        &signed.caller,
        &record,
        based_on,
        vec![edit],
        Vec::new(),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/assessments/{id}/ixit?table={}",
            super::encode(&table.id)
        ))),
        Err(error) => match super::refusal(&error) {
            Some((status, message)) => Ok(super::with_status(
                show(&state, &signed, &id, &which, Some(message)).await?,
                status,
            )),
            None => Err(error.into()),
        },
    }
}
