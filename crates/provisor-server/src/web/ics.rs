//! The ICS: provision by provision, its text, status and applicability, its verdict and
//! why, and the manufacturer's statement (support, detail, evidence) with a file upload
//! that adds evidence in the same revision. A plain multipart form: it works without
//! JavaScript. Uploads stream to a temporary file against the server's limit.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use provisor_engine::{Applicability, FileEdit, StatementEdit, Verdict};
use provisor_store::FileRecord;
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::api::assessments::{judged_revision, store_file, visible};
use crate::api::changes::make_changes;
use crate::auth::WRITERS;
use crate::{ApiError, AppState};

/// An evidence file the statement may cite.
pub struct EvidenceChoice {
    path: String,
    cited: bool,
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
    left: usize,
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
    // Derived provisions (5.0-1: justifications recorded) take no statement of their own.
    let needs_statement = |result: &provisor_engine::ProvisionResult<'_>| {
        result.provision.derived.is_none()
            && !matches!(result.applicability, Applicability::NotApplicable(_))
    };
    let applicable = results.iter().filter(|r| needs_statement(r)).count();
    let stated = results
        .iter()
        .filter(|r| needs_statement(r) && r.statement.is_some())
        .count();
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
    let mut evidence: Vec<EvidenceChoice> = files
        .iter()
        .filter(|file| file.role == "evidence")
        .map(|file| EvidenceChoice {
            cited: cited.contains(&file.path),
            path: file.path.clone(),
        })
        .collect();
    // Cited URLs and files the revision does not hold are kept as choices too.
    for path in &cited {
        if !evidence.iter().any(|choice| &choice.path == path) {
            evidence.push(EvidenceChoice {
                path: path.clone(),
                cited: true,
            });
        }
    }
    let steps = results
        .iter()
        .map(|r| Step {
            id: r.provision.id.clone(),
            state: if r.statement.as_ref().is_some_and(|s| s.carried.is_some()) {
                "carried"
            } else if r.statement.is_some() {
                "answered"
            } else if r.provision.derived.is_some() {
                "derived"
            } else if !needs_statement(r) {
                "implied"
            } else {
                "open"
            },
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
    let can_write = !derived
        && signed
            .caller
            .assessment_role(&record)
            .is_some_and(|role| WRITERS.contains(&role));
    Ok(render(&IcsPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        product: format!("{} {}", product.name, product.model),
        version: release.version,
        revision: record.current_revision,
        position,
        count,
        stated,
        applicable,
        left: applicable - stated,
        percent: (stated * 20).checked_div(applicable).unwrap_or(20) * 5,
        provision: result.provision.id.clone(),
        mandatory: result.provision.status.letter() == "M",
        applicability,
        text: result.provision.text.clone(),
        verdict: result.verdict.as_str(),
        verdict_label: match result.verdict {
            Verdict::Pass => "PASS",
            other => other.label(),
        },
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
    upload: Option<(String, tempfile::NamedTempFile)>,
}

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
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|error| ApiError::bad_request(format!("the form could not be read: {error}")))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if name == "upload" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let (temporary, received) = super::file_field(state, &mut field).await?;
            if received > 0 || !file_name.is_empty() {
                form.upload = Some((file_name, temporary));
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

/// Saves the statement (and the uploaded file) and goes on.
pub async fn save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let form = read_form(&state, multipart).await?;
    super::check_csrf(&signed.caller, &form.csrf)?;
    let record = visible(&state, &signed.caller, &id, WRITERS).await?;
    let mut evidence = form.evidence.clone();
    let mut added = Vec::new();
    if let Some((name, temporary)) = &form.upload {
        let Some(name) = evidence_name(name) else {
            return show(
                &state,
                &signed,
                &id,
                Some(form.at),
                Some("The file needs a name of letters, digits, dots and dashes.".to_owned()),
            )
            .await;
        };
        let stored = store_file(&state, &record.organisation_id, temporary.path()).await?;
        let path = format!("evidence/{name}");
        if !evidence.contains(&path) {
            evidence.push(path.clone());
        }
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
    if let Err(error) = make_changes(
        &state,
        &signed.caller,
        &record,
        form.based_on,
        vec![edit],
        added,
    )
    .await
    {
        return match super::refusal(&error) {
            Some((status, message)) => Ok(super::with_status(
                show(&state, &signed, &id, Some(form.at), Some(message)).await?,
                status,
            )),
            None => Err(error.into()),
        };
    }
    let next = if form.go == "previous" {
        form.at.saturating_sub(1).max(1)
    } else {
        form.at + 1
    };
    Ok(see_other(&format!("/assessments/{id}/ics?at={next}")))
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
