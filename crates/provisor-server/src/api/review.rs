//! The reviewer's decision and the discussion around an assessment. A review is
//! recorded as `provisor review` records it (the `[review]` table of the assessment
//! file, with the SHA-256 of everything an approval covers) in the next revision; an
//! approval also marks that revision as the approved one, which stays as it was: a
//! change afterwards makes a new revision and `check` warns that the approval no longer
//! covers it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use provisor_store::{Comment, FileRecord, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::assessments::{AssessmentView, visible};
use crate::auth::{Caller, READERS};
use crate::extract::Json;
use crate::judge::{judge, today};
use crate::{ApiError, AppState, ProblemPlace};

/// A reviewer's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// approve or request-changes.
    pub decision: String,
    /// The report's id, when the assessment has no [review] yet.
    #[serde(default)]
    pub report_id: Option<String>,
    /// Who assessed, when the assessment has no [review] yet.
    #[serde(default)]
    pub assessor: Option<String>,
    /// The revision the reviewer read; refused (409) when the assessment moved on.
    pub based_on: i64,
}

/// A review recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOutcome {
    /// The assessment, at its new revision.
    pub assessment: AssessmentView,
    /// What the reviewer should know (provisions still open).
    pub notes: Vec<String>,
}

/// Records a review (reviewers and admins of the manufacturer or the assigned lab).
#[utoipa::path(post, path = "/api/v1/assessments/{id}/review", tag = "assessments", params(("id" = String, Path)),
    request_body = ReviewRequest,
    responses(
        (status = 200, body = ReviewOutcome),
        (status = 409, body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "no report identity yet, or carried statements not confirmed", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<ReviewRequest>,
) -> Result<axum::Json<ReviewOutcome>, ApiError> {
    let (updated, notes) = record_review(
        &state,
        &caller,
        &id,
        &request.decision,
        request.report_id,
        request.assessor,
        request.based_on,
    )
    .await?;
    Ok(axum::Json(ReviewOutcome {
        assessment: AssessmentView::from(&updated),
        notes,
    }))
}

/// A comment as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    /// The id.
    pub id: String,
    /// The provision it is about.
    pub provision: Option<String>,
    /// Who wrote it (a user id).
    pub author_id: String,
    /// The text.
    pub body: String,
    /// When (ms since the epoch).
    pub created_at: i64,
}

impl From<&Comment> for CommentView {
    fn from(comment: &Comment) -> CommentView {
        CommentView {
            id: comment.id.clone(),
            provision: comment.provision.clone(),
            author_id: comment.author_id.clone(),
            body: comment.body.clone(),
            created_at: comment.created_at,
        }
    }
}

/// An assessment's comments, oldest first.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/comments", tag = "assessments", params(("id" = String, Path)),
    responses((status = 200, body = Vec<CommentView>)))]
pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<CommentView>>, ApiError> {
    visible(&state, &caller, &id, READERS).await?;
    let comments = state.store().comments(&id).await?;
    Ok(axum::Json(comments.iter().map(CommentView::from).collect()))
}

/// A comment to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// The provision it is about (5.1-1), if any.
    #[serde(default)]
    pub provision: Option<String>,
    /// The text.
    pub body: String,
}

/// Adds a comment (anyone who may read the assessment, viewers too).
#[utoipa::path(post, path = "/api/v1/assessments/{id}/comments", tag = "assessments", params(("id" = String, Path)),
    request_body = CommentRequest, responses((status = 201, body = CommentView)))]
pub async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<CommentRequest>,
) -> Result<(StatusCode, axum::Json<CommentView>), ApiError> {
    let record = visible(&state, &caller, &id, READERS).await?;
    if let Some(provision) = &request.provision {
        let known = provisor_catalog::edition(&record.edition).is_some_and(|catalog| {
            catalog
                .provisions
                .iter()
                .any(|candidate| candidate.id == *provision)
        });
        if !known {
            return Err(ApiError::invalid(
                "unknown provision",
                vec![ProblemPlace {
                    location: "/provision".into(),
                    message: format!("{provision} is not a provision of {}", record.edition),
                }],
            ));
        }
    }
    let comment = state
        .store()
        .add_comment(
            &caller.actor(),
            &record,
            &caller.user.id,
            request.provision.as_deref(),
            &request.body,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(CommentView::from(&comment))))
}

/// Records a review as the next revision (and marks an approval): what the API and the
/// assessment's page share. Returns the assessment as it is now and what the reviewer
/// should know.
pub(crate) async fn record_review(
    state: &AppState,
    caller: &Caller,
    id: &str,
    decision_text: &str,
    report_id: Option<String>,
    assessor: Option<String>,
    based_on: i64,
) -> Result<(provisor_store::AssessmentRecord, Vec<String>), ApiError> {
    let record = visible(state, caller, id, &[Role::Admin, Role::Reviewer]).await?;
    let decision = match decision_text {
        "approve" => provisor_engine::Decision::Approved,
        "request-changes" => provisor_engine::Decision::ChangesRequested,
        other => {
            return Err(ApiError::invalid(
                "unknown decision",
                vec![ProblemPlace {
                    location: "/decision".into(),
                    message: format!("\"{other}\" is neither approve nor request-changes"),
                }],
            ));
        }
    };
    if based_on != record.current_revision {
        return Err(ApiError::conflict(format!(
            "assessment {id} is at revision {}, not {}: read it again before deciding",
            record.current_revision, based_on
        )));
    }
    let mut files = state.store().files(id, record.current_revision).await?;
    let judged = judge(state, &record.organisation_id, &record.main_file, &files).await?;
    let main = files
        .iter()
        .find(|file| file.path == record.main_file)
        .cloned()
        .ok_or_else(|| ApiError::internal("the revision lacks its assessment file"))?;
    let text = String::from_utf8(
        state
            .store()
            .blobs()
            .read(&record.organisation_id, &main.sha256)
            .await?,
    )
    .map_err(ApiError::internal)?;
    let review_request = provisor_report::ReviewRequest {
        decision,
        report_id,
        assessor,
        reviewer: caller.user.display_name.clone(),
        revision: None,
        date: today(),
    };
    let (new_text, _, notes) = provisor_report::apply_review(
        &text,
        &record.main_file,
        &judged.assessment,
        judged.file.review.as_ref(),
        &review_request,
    )
    .map_err(|message| ApiError::invalid(message, Vec::new()))?;
    let stored = state
        .store()
        .blobs()
        .put(&record.organisation_id, new_text.as_bytes())
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
    let rejudged = judge(state, &record.organisation_id, &record.main_file, &files).await?;
    let tree = super::assessments::tree(
        &rejudged,
        &record.main_file,
        files,
        format!("review: {decision_text}"),
    );
    let updated = state
        .store()
        .add_revision(&caller.actor(), id, record.current_revision, &tree)
        .await?;
    if decision == provisor_engine::Decision::Approved {
        state
            .store()
            .mark_approved(&caller.actor(), id, updated.current_revision)
            .await?;
    }
    let updated = state.store().assessment(id).await?;
    Ok((updated, notes))
}
