//! Making a product with its first release: the form a manufacturer's editor (or a
//! server admin) fills in, then the release's page, where an assessment starts.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use provisor_store::{NewProduct, NewRelease, OrganisationKind, StoreError};
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::auth::WRITERS;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "new_product.html")]
struct NewProductPage {
    nav: Nav,
    message: Option<String>,
    organisations: Vec<(String, String)>,
    selected: String,
    name: String,
    model: String,
    version: String,
    support_period_end: String,
}

/// The manufacturers the person may add products to.
async fn manufacturers(
    state: &AppState,
    signed: &Signed,
) -> Result<Vec<(String, String)>, PageError> {
    let organisations = state
        .store()
        .organisations()
        .await
        .map_err(ApiError::from)?;
    Ok(organisations
        .into_iter()
        .filter(|organisation| organisation.kind == OrganisationKind::Manufacturer)
        .filter(|organisation| {
            signed.caller.user.server_admin
                || signed
                    .caller
                    .role_in(&organisation.id)
                    .is_some_and(|role| WRITERS.contains(&role))
        })
        .map(|organisation| (organisation.id, organisation.name))
        .collect())
}

/// The form.
pub async fn form_page(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    let organisations = manufacturers(&state, &signed).await?;
    if organisations.is_empty() {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "You are not an editor or admin of a manufacturer, so there is nowhere to add a product.",
        ));
    }
    Ok(render(&NewProductPage {
        nav: signed.nav("portfolio"),
        message: None,
        selected: organisations[0].0.clone(),
        organisations,
        name: String::new(),
        model: String::new(),
        version: String::new(),
        support_period_end: String::new(),
    }))
}

/// The form's fields.
#[derive(Debug, Deserialize)]
pub struct ProductForm {
    csrf: String,
    organisation: String,
    name: String,
    model: String,
    version: String,
    #[serde(default)]
    support_period_end: String,
}

/// Makes the product and its first release, and opens the release.
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<ProductForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    signed.caller.require_role(
        &form.organisation,
        WRITERS,
        &format!("organisation {}", form.organisation),
    )?;
    let store = state.store();
    let actor = signed.caller.actor();
    let again = |message: String| async {
        let organisations = manufacturers(&state, &signed).await?;
        let mut response = render(&NewProductPage {
            nav: signed.nav("portfolio"),
            message: Some(message),
            organisations,
            selected: form.organisation.clone(),
            name: form.name.clone(),
            model: form.model.clone(),
            version: form.version.clone(),
            support_period_end: form.support_period_end.clone(),
        });
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok::<Response, PageError>(response)
    };
    // The release's fields are checked first, so that a product is not made without it.
    let support = Some(form.support_period_end.trim().to_owned()).filter(|end| !end.is_empty());
    if form.version.trim().is_empty() {
        return again("Give the firmware version of the first release.".to_owned()).await;
    }
    if let Some(end) = &support
        && provisor_engine::Date::parse(end).is_none()
    {
        return again(format!("{end:?} is not a date: write YYYY-MM-DD.")).await;
    }
    let product = match store
        .create_product(
            &actor,
            &form.organisation,
            &NewProduct {
                name: form.name.trim().to_owned(),
                model: form.model.trim().to_owned(),
            },
        )
        .await
    {
        Ok(product) => product,
        Err(StoreError::Conflict(message) | StoreError::Invalid(message)) => {
            return again(message).await;
        }
        Err(error) => return Err(ApiError::from(error).into()),
    };
    let release = match store
        .create_release(
            &actor,
            &product.id,
            &NewRelease {
                version: form.version.trim().to_owned(),
                support_period_end: support,
            },
        )
        .await
    {
        Ok(release) => release,
        Err(StoreError::Conflict(message) | StoreError::Invalid(message)) => {
            return Ok(see_other(&format!(
                "/portfolio?q={}&note={}",
                super::encode(&product.name),
                super::encode(&message)
            )));
        }
        Err(error) => return Err(ApiError::from(error).into()),
    };
    Ok(see_other(&format!("/releases/{}", release.id)))
}
