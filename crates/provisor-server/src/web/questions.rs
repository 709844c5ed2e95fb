//! The questionnaire: the edition's conditions and features one question at a time, in
//! plain language, each with the standard's own words, what the other answers already
//! imply (and why), and which provisions it switches on or off. An answer is written
//! into the assessment file as `provisor init --interactive` would write it, as the
//! next revision (`api::changes::make_changes`); saving an answer carried from an
//! earlier release confirms it. Readers see the answers without the form.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use provisor_engine::{AnswerEdit, AnswerSource, FileEdit};
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::AppState;
use crate::api::assessments::{judged_revision, visible};
use crate::api::changes::make_changes;
use crate::auth::WRITERS;

/// One question in the list of all.
pub struct Step {
    id: String,
    state: &'static str,
    title: String,
}

#[derive(Template)]
#[template(path = "questions.html")]
struct QuestionsPage {
    nav: Nav,
    id: String,
    product: String,
    version: String,
    revision: i64,
    position: usize,
    count: usize,
    answered: usize,
    percent: usize,
    label: String,
    condition: String,
    question: String,
    wording: String,
    implied: Option<&'static str>,
    why: Option<String>,
    current: &'static str,
    /// The answer was carried from an earlier release and waits to be confirmed.
    carried: bool,
    note: String,
    decides: String,
    can_write: bool,
    steps: Vec<Step>,
    message: Option<String>,
}

/// `?at=`: the question's number, from 1.
#[derive(Debug, Default, Deserialize)]
pub struct At {
    #[serde(default)]
    at: Option<usize>,
}

fn yes_no(answer: bool) -> &'static str {
    if answer { "yes" } else { "no" }
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
    let judged = judged_revision(state, &record, None).await?;
    let assessment = &judged.assessment;
    let states = &assessment.conditions;
    let count = states.len();
    if count == 0 {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "No questions",
            "This edition asks nothing about the device.",
        ));
    }
    let declared = |index: usize| {
        states[index]
            .answer
            .as_ref()
            .is_some_and(|answer| matches!(answer.source, AnswerSource::Declared))
    };
    // Without `?at=`, the first question nothing answers yet.
    let position = at
        .unwrap_or_else(|| {
            (0..count)
                .find(|index| states[*index].answer.is_none())
                .map_or(1, |index| index + 1)
        })
        .clamp(1, count);
    let condition_state = &states[position - 1];
    let condition = condition_state.condition;
    let carried = condition_state
        .answer
        .as_ref()
        .is_some_and(|answer| answer.carried);
    let (current, note, implied, why) = match &condition_state.answer {
        Some(answer) if matches!(answer.source, AnswerSource::Declared) => (
            yes_no(answer.answer),
            answer.note.clone().unwrap_or_default(),
            None,
            None,
        ),
        Some(answer) => (
            "undecided",
            String::new(),
            Some(yes_no(answer.answer)),
            match &answer.source {
                AnswerSource::Implied { relation, .. } => Some(relation.clone()),
                AnswerSource::Inferred { because } => Some(because.clone()),
                AnswerSource::Declared => None,
            },
        ),
        None => ("undecided", String::new(), None, None),
    };
    let decides: Vec<String> = assessment
        .catalog
        .provisions
        .iter()
        .filter(|provision| provision.conditions.contains(&condition.id))
        .map(|provision| provision.id.clone())
        .collect();
    let answered = states.iter().filter(|state| state.answer.is_some()).count();
    let steps = states
        .iter()
        .enumerate()
        .map(|(index, state)| Step {
            id: state.condition.id.to_string(),
            state: match &state.answer {
                Some(answer) if answer.carried => "carried",
                Some(_) if declared(index) => "answered",
                Some(_) => "implied",
                None => "open",
            },
            title: state.condition.question.clone(),
        })
        .collect();
    Ok(render(&QuestionsPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        product: format!("{} {}", product.name, product.model),
        version: release.version,
        revision: record.current_revision,
        position,
        count,
        answered,
        percent: (answered * 20 / count) * 5,
        label: condition.label(),
        condition: condition.id.to_string(),
        question: condition.question.clone(),
        wording: condition.wording().to_owned(),
        implied,
        why,
        current,
        carried,
        note,
        decides: decides.join(", "),
        can_write: signed.caller.may_write(&record),
        steps,
        message,
    }))
}

/// A question of the questionnaire.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<At>,
) -> Result<Response, PageError> {
    show(&state, &signed, &id, query.at, None).await
}

/// An answer.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    csrf: String,
    based_on: i64,
    condition: String,
    at: usize,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    go: String,
}

/// Saves an answer and goes to the next (or previous) question.
pub async fn answer(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let record = visible(&state, &signed.caller, &id, WRITERS).await?;
    let note = Some(form.note.trim().to_owned()).filter(|note| !note.is_empty());
    let answer = match form.answer.as_str() {
        "yes" => Some(AnswerEdit { answer: true, note }),
        "no" => Some(AnswerEdit {
            answer: false,
            note,
        }),
        _ => None,
    };
    let edit = FileEdit::Condition {
        id: form.condition.clone(),
        answer,
    };
    if let Err(error) = make_changes(
        &state,
        &signed.caller,
        &record,
        form.based_on,
        vec![edit],
        Vec::new(),
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
    // The questions are the edition's conditions: no second judgement to count them.
    let count =
        provisor_catalog::edition(&record.edition).map_or(0, |catalog| catalog.conditions.len());
    if next > count {
        return Ok(see_other(&format!("/assessments/{id}")).into_response());
    }
    Ok(see_other(&format!("/assessments/{id}/questions?at={next}")))
}
