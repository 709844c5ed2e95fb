//! Structured changes to an assessment: a device field, a condition's answer, a
//! provision's statement, a test case's record, an IXIT entry, set or removed, several
//! at once, as the
//! web pages' forms send them. Each change is written into the assessment file the way
//! a person would write it (`provisor_engine::edit_file`: in place, comments kept), the
//! file must still judge, and the result is the next revision, based on the revision
//! the caller read (409 when it moved on). Exported, the file re-imports to the same
//! state.

use axum::extract::{Path, State};
use provisor_engine::{AnswerEdit, FileEdit, IxitFieldEdit, StatementEdit, TestEdit};
use provisor_store::FileRecord;
use serde::Deserialize;
use utoipa::ToSchema;

use super::assessments::{AssessmentView, tree, visible};
use crate::auth::{Caller, WRITERS};
use crate::extract::Json;
use crate::judge::judge;
use crate::{ApiError, AppState, ProblemPlace};

/// The most changes one request makes.
const MAX_CHANGES: usize = 500;

/// Changes to make together, as one revision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesRequest {
    /// The revision the changes were made on; refused (409) when the assessment moved on.
    pub based_on: i64,
    /// The changes, made in order.
    pub changes: Vec<Change>,
}

/// One change; `value: null` removes the entry (it is commented out in the file).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Change {
    /// A `[device]` field.
    Device {
        /// manufacturer, model, hardware_version, firmware_version, firmware_sha256,
        /// description, manufacturer_address, batch or support_period_end.
        field: String,
        /// Its text (support_period_end: YYYY-MM-DD).
        value: Option<String>,
    },
    /// A condition's or feature's answer.
    Condition {
        /// The condition's number or the feature's letter (12, a).
        id: String,
        /// The answer.
        value: Option<AnswerValue>,
    },
    /// A provision's statement (the ICS).
    Statement {
        /// The provision (5.1-1).
        provision: String,
        /// The statement.
        value: Option<StatementValue>,
    },
    /// A test case's record (TS 103 701).
    Test {
        /// The test case (5.1-1-2).
        id: String,
        /// The record.
        value: Option<TestValue>,
    },
    /// An entry of an IXIT table (TS 103 701): added (no index), replaced, or removed
    /// (value null).
    Ixit {
        /// The table (1-AuthMech).
        table: String,
        /// The entry's position among the table's entries, from 0; absent adds one.
        #[serde(default)]
        index: Option<usize>,
        /// The fields (`id` first when given, then in name order).
        value: Option<std::collections::BTreeMap<String, IxitFieldValue>>,
    },
}

/// An IXIT field's value: text, yes/no, a whole number, a list of texts, or where a
/// secret is kept (`{"env": "VAR"}` or `{"file": "secrets.toml", "key": "a.b"}`),
/// never a secret itself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum IxitFieldValue {
    /// Yes or no.
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// Text.
    Text(String),
    /// A list of texts.
    List(Vec<String>),
    /// A secret in an environment variable.
    Env {
        /// The variable.
        env: String,
    },
    /// A secret under a key of a secrets file.
    File {
        /// The file, beside the assessment.
        file: String,
        /// The key.
        key: String,
    },
}

impl IxitFieldValue {
    fn into_edit(self) -> IxitFieldEdit {
        match self {
            IxitFieldValue::Boolean(flag) => IxitFieldEdit::Boolean(flag),
            IxitFieldValue::Integer(number) => IxitFieldEdit::Integer(number),
            IxitFieldValue::Text(text) => IxitFieldEdit::Text(text),
            IxitFieldValue::List(items) => IxitFieldEdit::List(items),
            IxitFieldValue::Env { env } => IxitFieldEdit::SecretEnv(env),
            IxitFieldValue::File { file, key } => IxitFieldEdit::SecretFile { file, key },
        }
    }
}

/// An answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerValue {
    /// Yes or no.
    pub answer: bool,
    /// Why.
    #[serde(default)]
    pub note: Option<String>,
}

/// A statement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementValue {
    /// yes, no or not-applicable.
    pub support: String,
    /// What the manufacturer says.
    #[serde(default)]
    pub detail: String,
    /// Evidence files of the assessment, or URLs.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// A test record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestValue {
    /// pass, fail, inconclusive or not-run.
    pub verdict: String,
    /// Who ran it (the caller's name when absent).
    #[serde(default)]
    pub assessor: Option<String>,
    /// When, YYYY-MM-DD.
    #[serde(default)]
    pub date: Option<String>,
    /// How.
    #[serde(default)]
    pub method: String,
    /// Evidence files or URLs.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Finding ids it relies on.
    #[serde(default)]
    pub findings: Vec<String>,
    /// Why the verdict departs from the findings.
    #[serde(default, rename = "override")]
    pub override_reason: Option<String>,
}

impl Change {
    pub(crate) fn into_edit(self, caller: &Caller) -> FileEdit {
        match self {
            Change::Device { field, value } => FileEdit::Device { field, value },
            Change::Condition { id, value } => FileEdit::Condition {
                id,
                answer: value.map(|value| AnswerEdit {
                    answer: value.answer,
                    note: value.note,
                }),
            },
            Change::Statement { provision, value } => FileEdit::Statement {
                provision,
                statement: value.map(|value| StatementEdit {
                    support: value.support,
                    detail: value.detail,
                    evidence: value.evidence,
                }),
            },
            Change::Test { id, value } => FileEdit::Test {
                id,
                record: value.map(|value| TestEdit {
                    verdict: value.verdict,
                    assessor: value
                        .assessor
                        .or_else(|| Some(caller.user.display_name.clone())),
                    date: value.date,
                    method: value.method,
                    evidence: value.evidence,
                    findings: value.findings,
                    override_reason: value.override_reason,
                }),
            },
            Change::Ixit {
                table,
                index,
                value,
            } => FileEdit::Ixit {
                table,
                index,
                fields: value.map(|fields| {
                    let mut fields: Vec<(String, IxitFieldEdit)> = fields
                        .into_iter()
                        .map(|(name, value)| (name, value.into_edit()))
                        .collect();
                    // The id first, as a person writes it.
                    fields.sort_by_key(|(name, _)| name != "id");
                    fields
                }),
            },
        }
    }
}

/// Makes changes to the assessment file as the next revision (editors, assessors,
/// admins). The changed file must still judge; what is wrong says which change.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/changes", tag = "assessments", params(("id" = String, Path)),
    request_body = ChangesRequest,
    responses(
        (status = 200, body = AssessmentView),
        (status = 409, body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<ChangesRequest>,
) -> Result<axum::Json<AssessmentView>, ApiError> {
    let record = visible(&state, &caller, &id, WRITERS).await?;
    if request.changes.is_empty() || request.changes.len() > MAX_CHANGES {
        return Err(ApiError::invalid(
            format!("give from 1 to {MAX_CHANGES} changes"),
            vec![ProblemPlace {
                location: "/changes".into(),
                message: format!("{} given", request.changes.len()),
            }],
        ));
    }
    let edits = request
        .changes
        .into_iter()
        .map(|change| change.into_edit(&caller))
        .collect();
    let updated = make_changes(
        &state,
        &caller,
        &record,
        request.based_on,
        edits,
        Vec::new(),
    )
    .await?;
    Ok(axum::Json(AssessmentView::from(&updated)))
}

/// Makes `edits` in the assessment file of `record`'s current revision, which must be
/// `based_on`, adds the files of `added` (evidence already stored as blobs), judges the
/// result and stores it as the next revision: what the API's changes and the web
/// pages' forms share. Edits that leave the file as it was, with no file added, make no
/// revision: the record comes back as it is.
pub(crate) async fn make_changes(
    state: &AppState,
    caller: &Caller,
    record: &provisor_store::AssessmentRecord,
    based_on: i64,
    edits: Vec<FileEdit>,
    added: Vec<FileRecord>,
) -> Result<provisor_store::AssessmentRecord, ApiError> {
    let id = &record.id;
    if based_on != record.current_revision {
        return Err(ApiError::conflict(format!(
            "assessment {id} is at revision {}, not {based_on}: reload it and make the changes again",
            record.current_revision
        )));
    }
    let mut files = state.store().files(id, record.current_revision).await?;
    let main = files
        .iter()
        .find(|file| file.path == record.main_file)
        .cloned()
        .ok_or_else(|| ApiError::internal("the revision lacks its assessment file"))?;
    let mut text = String::from_utf8(
        state
            .store()
            .blobs()
            .read(&record.organisation_id, &main.sha256)
            .await?,
    )
    .map_err(|_| {
        ApiError::invalid(
            format!("{} is not UTF-8 text", record.main_file),
            Vec::new(),
        )
    })?;
    let original = text.clone();
    let mut subjects = Vec::new();
    for (index, edit) in edits.iter().enumerate() {
        text = provisor_engine::edit_file(&text, edit).map_err(|message| {
            ApiError::invalid(
                format!("change {index} ({}) cannot be made", edit.subject()),
                vec![ProblemPlace {
                    location: format!("/changes/{index}"),
                    message,
                }],
            )
        })?;
        subjects.push(edit.subject());
    }
    // Changes that change nothing (a form saved again as it was) make no revision.
    if text == original && added.is_empty() {
        return Ok(record.clone());
    }
    let stored = state
        .store()
        .blobs()
        .put(&record.organisation_id, text.as_bytes())
        .await?;
    for file in &mut files {
        if file.path == record.main_file {
            *file = FileRecord {
                sha256: stored.sha256.clone(),
                size: stored.size as i64,
                ..file.clone()
            };
        }
    }
    for file in added {
        subjects.push(format!("added {}", file.path));
        files.retain(|kept| kept.path != file.path);
        files.push(file);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let judged = judge(state, &record.organisation_id, &record.main_file, &files).await?;
    let note = format!("set {}", subjects.join(", "));
    Ok(state
        .store()
        .add_revision(
            &caller.actor(),
            id,
            based_on,
            &tree(&judged, &record.main_file, files, note),
        )
        .await?)
}
