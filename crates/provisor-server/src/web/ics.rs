//! The ICS: provision by provision, its text, status and applicability, its verdict and
//! why, and the manufacturer's statement (support, detail, evidence) with file uploads
//! that add evidence in the same revision. A plain multipart form: it works without
//! JavaScript. With it (`assets/app.js`), files are dropped on the form and every change
//! is saved as it is made: the same form, sent with `Accept: application/json`, answers
//! what the page shows (revision, progress, verdict, evidence) instead of the next page.
//! Uploads stream to temporary files against the server's limit, all of a form's files
//! together.

use askama::Template;
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provisor_engine::{Applicability, FileEdit, ProvisionResult, StatementEdit, Verdict};
use provisor_store::FileRecord;
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::api::assessments::{judged_revision, store_file, visible};
use crate::api::changes::make_changes;
use crate::auth::WRITERS;
use crate::{ApiError, AppState};

/// An evidence file the statement may cite.
#[derive(serde::Serialize)]
pub struct EvidenceChoice {
    path: String,
    cited: bool,
}

/// Whether a provision takes a statement: not a derived one (5.0-1: justifications
/// recorded), not one that does not apply.
fn needs_statement(result: &ProvisionResult<'_>) -> bool {
    result.provision.derived.is_none()
        && !matches!(result.applicability, Applicability::NotApplicable(_))
}

/// A provision's mark in the list of all.
fn step_state(result: &ProvisionResult<'_>) -> &'static str {
    if result
        .statement
        .as_ref()
        .is_some_and(|s| s.carried.is_some())
    {
        "carried"
    } else if result.statement.is_some() {
        "answered"
    } else if result.provision.derived.is_some() {
        "derived"
    } else if !needs_statement(result) {
        "implied"
    } else {
        "open"
    }
}

/// How far the ICS is: statements given of those that may be needed.
struct Progress {
    stated: usize,
    applicable: usize,
    /// Rounded down to a multiple of 5, for the bar's width class.
    percent: usize,
}

impl Progress {
    fn of(results: &[ProvisionResult<'_>]) -> Progress {
        let applicable = results.iter().filter(|r| needs_statement(r)).count();
        let stated = results
            .iter()
            .filter(|r| needs_statement(r) && r.statement.is_some())
            .count();
        Progress {
            stated,
            applicable,
            percent: (stated * 20).checked_div(applicable).unwrap_or(20) * 5,
        }
    }

    /// The line under the bar.
    fn summary(&self) -> String {
        format!(
            "{} of {} provisions that apply or may apply have a statement; {} left",
            self.stated,
            self.applicable,
            self.applicable - self.stated
        )
    }
}

/// The revision's evidence files, those the statement cites checked, and the cited URLs
/// and files the revision does not hold kept as choices too.
fn evidence_choices(files: &[FileRecord], cited: &[String]) -> Vec<EvidenceChoice> {
    let mut evidence: Vec<EvidenceChoice> = files
        .iter()
        .filter(|file| file.role == "evidence")
        .map(|file| EvidenceChoice {
            cited: cited.contains(&file.path),
            path: file.path.clone(),
        })
        .collect();
    for path in cited {
        if !evidence.iter().any(|choice| &choice.path == path) {
            evidence.push(EvidenceChoice {
                path: path.clone(),
                cited: true,
            });
        }
    }
    evidence
}

/// A verdict as the badge says it.
fn verdict_label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        other => other.label(),
    }
}

/// One provision in the list of all.
pub struct Step {
    id: String,
    state: &'static str,
    title: String,
}

#[derive(Template)]
#[template(path = "ics.html")]
struct IcsPage {
    nav: Nav,
    id: String,
    product: String,
    version: String,
    revision: i64,
    position: usize,
    count: usize,
    stated: usize,
    applicable: usize,
    summary: String,
    percent: usize,
    provision: String,
    mandatory: bool,
    applicability: String,
    text: String,
    verdict: &'static str,
    verdict_label: &'static str,
    reasons: Vec<String>,
    support: &'static str,
    /// Where a carried statement came from (its provision), until someone confirms it.
    carried: Option<String>,
    detail: String,
    evidence: Vec<EvidenceChoice>,
    can_write: bool,
    derived: bool,
    steps: Vec<Step>,
    message: Option<String>,
    /// The comments on this provision, oldest first: who, when, what.
    comments: Vec<(String, String, String)>,
}

/// `?at=`: the provision's place in the edition, from 1.
#[derive(Debug, Default, Deserialize)]
pub struct At {
    #[serde(default)]
    at: Option<usize>,
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: &str,
    at: Option<usize>,
    message: Option<String>,
) -> Result<Response, PageError> {
    let super::Shown {
        record,
        release,
        product,
    } = super::shown(state, signed, id).await?;
    let store = state.store();
    let judged = judged_revision(state, &record, None).await?;
    let assessment = &judged.assessment;
    let results = &assessment.provisions;
    let count = results.len();
    let progress = Progress::of(results);
    // Without `?at=`, the first provision that may apply and has no statement.
    let position = at
        .unwrap_or_else(|| {
            results
                .iter()
                .position(|r| needs_statement(r) && r.statement.is_none())
                .map_or(1, |index| index + 1)
        })
        .clamp(1, count.max(1));
    let Some(result) = results.get(position - 1) else {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "No provisions",
            "This edition has no provisions.",
        ));
    };
    let label = |condition: &provisor_catalog::ConditionId| {
        assessment
            .catalog
            .condition(&condition.to_string())
            .map_or_else(|| format!("condition {condition}"), |known| known.label())
    };
    let applicability = match &result.applicability {
        Applicability::Applies => "applies".to_owned(),
        Applicability::NotApplicable(condition) => {
            format!("does not apply ({} is answered no)", label(condition))
        }
        Applicability::Undetermined(condition) => {
            format!("may apply: {} is not answered yet", label(condition))
        }
    };
    let cited: Vec<String> = result
        .statement
        .as_ref()
        .map(|statement| statement.evidence.clone())
        .unwrap_or_default();
    let files = store
        .files(&record.id, record.current_revision)
        .await
        .map_err(ApiError::from)?;
    let evidence = evidence_choices(&files, &cited);
    let steps = results
        .iter()
        .map(|r| Step {
            id: r.provision.id.clone(),
            state: step_state(r),
            title: r.provision.text.clone(),
        })
        .collect();
    let store = state.store();
    let mut comments = Vec::new();
    for comment in store
        .comments(&record.id)
        .await
        .map_err(crate::ApiError::from)?
        .into_iter()
        .filter(|comment| comment.provision.as_deref() == Some(result.provision.id.as_str()))
    {
        let author = match store.user(&comment.author_id).await {
            Ok(user) => user.display_name,
            Err(_) => comment.author_id.clone(),
        };
        comments.push((author, super::when(comment.created_at), comment.body));
    }
    let derived = result.provision.derived.is_some();
    let can_write = !derived && signed.caller.may_write(&record);
    Ok(render(&IcsPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        product: format!("{} {}", product.name, product.model),
        version: release.version,
        revision: record.current_revision,
        position,
        count,
        stated: progress.stated,
        applicable: progress.applicable,
        summary: progress.summary(),
        percent: progress.percent,
        provision: result.provision.id.clone(),
        mandatory: result.provision.status.letter() == "M",
        applicability,
        text: result.provision.text.clone(),
        verdict: result.verdict.as_str(),
        verdict_label: verdict_label(result.verdict),
        reasons: result.reasons.clone(),
        support: result
            .statement
            .as_ref()
            .map_or("", |statement| statement.support.as_str()),
        carried: result
            .statement
            .as_ref()
            .and_then(|statement| statement.carried.clone()),
        detail: result
            .statement
            .as_ref()
            .map(|statement| statement.detail.clone())
            .unwrap_or_default(),
        evidence,
        can_write,
        derived,
        steps,
        message,
        comments,
    }))
}

/// A provision of the ICS.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<At>,
) -> Result<Response, PageError> {
    show(&state, &signed, &id, query.at, None).await
}

/// The longest text field a form may send.
const TEXT_LIMIT: usize = 64 << 10;

/// The form's fields, read from the multipart body.
#[derive(Default)]
struct StatementForm {
    csrf: String,
    based_on: i64,
    provision: String,
    at: usize,
    support: String,
    detail: String,
    evidence: Vec<String>,
    go: String,
    /// The files sent (their names as the browser gave them), at most [`MAX_FILES`].
    uploads: Vec<(String, tempfile::NamedTempFile)>,
}

/// The most files one save may add.
const MAX_FILES: usize = 20;

/// A file name an upload may keep: its last part, only letters, digits and `.-_`.
fn evidence_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let clean = clean.trim_matches(['.', '-']).to_owned();
    (!clean.is_empty() && clean.len() <= 120).then_some(clean)
}

async fn read_form(state: &AppState, mut multipart: Multipart) -> Result<StatementForm, ApiError> {
    let mut form = StatementForm::default();
    let mut budget = state.config().max_upload;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|error| ApiError::bad_request(format!("the form could not be read: {error}")))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if name == "upload" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let (temporary, received) = super::file_field_within(state, &mut field, budget).await?;
            budget -= received;
            if received > 0 || !file_name.is_empty() {
                if form.uploads.len() == MAX_FILES {
                    return Err(ApiError::too_large(format!(
                        "a save adds at most {MAX_FILES} files: send the others with the next"
                    )));
                }
                form.uploads.push((file_name, temporary));
            }
            continue;
        }
        let value = super::text_field(&mut field, TEXT_LIMIT).await?;
        match name.as_str() {
            "csrf" => form.csrf = value,
            "based_on" => form.based_on = value.parse().unwrap_or(-1),
            "provision" => form.provision = value,
            "at" => form.at = value.parse().unwrap_or(1),
            "support" => form.support = value,
            "detail" => form.detail = value,
            "evidence" => form.evidence.push(value),
            "go" => form.go = value,
            _ => {}
        }
    }
    Ok(form)
}

/// Whether the form was sent by the page's script, which wants what changed, not a page.
fn inline(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.starts_with("application/json"))
}

/// A refused inline save: the status and what to tell the person.
fn refused_inline(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// Saves the statement (and the uploaded files) and goes on; sent inline, answers what
/// changed on the page.
pub async fn save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let inline = inline(&headers);
    let form = match read_form(&state, multipart).await {
        Ok(form) => form,
        Err(error) if inline => {
            return Ok(refused_inline(error.status(), super::message_of(&error)));
        }
        Err(error) => return Err(error.into()),
    };
    super::check_csrf(&signed.caller, &form.csrf)?;
    let record = visible(&state, &signed.caller, &id, WRITERS).await?;
    let mut evidence = form.evidence.clone();
    let mut added: Vec<FileRecord> = Vec::new();
    for (name, temporary) in &form.uploads {
        let Some(name) = evidence_name(name) else {
            let message = "Each file needs a name of letters, digits, dots and dashes.".to_owned();
            if inline {
                return Ok(refused_inline(StatusCode::UNPROCESSABLE_ENTITY, message));
            }
            return Ok(super::with_status(
                show(&state, &signed, &id, Some(form.at), Some(message)).await?,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        };
        let stored = store_file(&state, &record.organisation_id, temporary.path()).await?;
        let path = format!("evidence/{name}");
        if !evidence.contains(&path) {
            evidence.push(path.clone());
        }
        // Two files of one name: the later one is kept, as a second save would.
        added.retain(|file| file.path != path);
        added.push(FileRecord {
            path,
            role: "evidence".into(),
            sha256: stored.sha256,
            size: stored.size as i64,
        });
    }
    let statement = (!form.support.is_empty()).then(|| StatementEdit {
        support: form.support.clone(),
        detail: form.detail.trim().to_owned(),
        evidence,
    });
    let edit = FileEdit::Statement {
        provision: form.provision.clone(),
        statement,
    };
    let added_paths: Vec<String> = added.iter().map(|file| file.path.clone()).collect();
    let saved = match make_changes(
        &state,
        &signed.caller,
        &record,
        form.based_on,
        vec![edit],
        added,
    )
    .await
    {
        Ok(saved) => saved,
        Err(error) => {
            return match super::refusal(&error) {
                Some((StatusCode::CONFLICT, _)) if inline => Ok(refused_inline(
                    StatusCode::CONFLICT,
                    "someone else changed the assessment since this page was loaded: load the page again and make this change again".to_owned(),
                )),
                Some((status, message)) if inline => Ok(refused_inline(status, message)),
                Some((status, message)) => Ok(super::with_status(
                    show(&state, &signed, &id, Some(form.at), Some(message)).await?,
                    status,
                )),
                None => Err(error.into()),
            };
        }
    };
    if inline {
        return Ok(saved_inline(&state, &saved, &form.provision, &added_paths).await?);
    }
    let next = match form.go.as_str() {
        "previous" => form.at.saturating_sub(1).max(1),
        "stay" => form.at,
        _ => form.at + 1,
    };
    Ok(see_other(&format!("/assessments/{id}/ics?at={next}")))
}

/// What an inline save changed on the page: the revision the next save is based on,
/// the progress, the provision's verdict and mark, and its evidence choices (the files
/// just added ticked, even before there is a statement to cite them: the answer that
/// comes next cites them).
async fn saved_inline(
    state: &AppState,
    saved: &provisor_store::AssessmentRecord,
    provision: &str,
    added: &[String],
) -> Result<Response, ApiError> {
    let judged = judged_revision(state, saved, None).await?;
    let results = &judged.assessment.provisions;
    let progress = Progress::of(results);
    let result = results
        .iter()
        .find(|result| result.provision.id == provision)
        .ok_or_else(|| {
            ApiError::not_found(format!("provision {provision} is not in the edition"))
        })?;
    let files = state
        .store()
        .files(&saved.id, saved.current_revision)
        .await?;
    let mut cited = result
        .statement
        .as_ref()
        .map(|statement| statement.evidence.clone())
        .unwrap_or_default();
    cited.extend(added.iter().cloned());
    Ok(Json(serde_json::json!({
        "revision": saved.current_revision,
        "stated": progress.stated,
        "applicable": progress.applicable,
        "percent": progress.percent,
        "summary": progress.summary(),
        "verdict": result.verdict.as_str(),
        "verdict_label": verdict_label(result.verdict),
        "reasons": result.reasons,
        "step": step_state(result),
        "carried": result.statement.as_ref().and_then(|statement| statement.carried.clone()),
        "evidence": evidence_choices(&files, &cited),
    }))
    .into_response())
}

/// The comment form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct CommentForm {
    csrf: String,
    provision: String,
    at: usize,
    body: String,
}

/// Adds a comment on a provision (anyone who may read the assessment, as in the API)
/// and comes back to it.
pub async fn comment(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CommentForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let body = form.body.trim().to_owned();
    if body.is_empty() {
        let response = show(
            &state,
            &signed,
            &id,
            Some(form.at),
            Some("Write the comment first.".to_owned()),
        )
        .await?;
        return Ok(super::with_status(
            response,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let added = crate::api::review::add_comment(
        State(state.clone()),
        signed.caller.clone(),
        Path(id.clone()),
        crate::extract::Json(crate::api::review::CommentRequest {
            provision: Some(form.provision),
            body,
        }),
    )
    .await;
    match added {
        Ok(_) => Ok(super::see_other(&format!(
            "/assessments/{id}/ics?at={}#comments",
            form.at
        ))),
        Err(error) => match super::refusal(&error) {
            Some((status, message)) => Ok(super::with_status(
                show(&state, &signed, &id, Some(form.at), Some(message)).await?,
                status,
            )),
            None => Err(error.into()),
        },
    }
}
