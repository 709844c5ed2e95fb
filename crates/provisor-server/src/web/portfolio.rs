//! The portfolio page: every release the person may see, with its newest assessment's
//! result, a page at a time, searched and filtered by manufacturer.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use provisor_store::{Organisation, OrganisationKind, PortfolioQuery, PortfolioRow};
use serde::Deserialize;

use super::{Nav, PageError, Signed, encode, render};
use crate::{ApiError, AppState};

/// Releases per page.
const PAGE: i64 = 50;

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    nav: Nav,
    rows: Vec<PortfolioRow>,
    total: i64,
    filtered: bool,
    q: String,
    selected: String,
    organisations: Vec<Organisation>,
    next: Option<String>,
    can_add: bool,
}

/// The portfolio.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let store = state.store();
    let user = &signed.caller.user;
    let organisation = Some(filters.organisation.clone()).filter(|id| !id.is_empty());
    let search = Some(filters.q.trim().to_owned()).filter(|text| !text.is_empty());
    let page = store
        .portfolio(
            user,
            &PortfolioQuery {
                limit: PAGE,
                after: filters.after.clone(),
                organisation: organisation.clone(),
                search: search.clone(),
            },
        )
        .await
        .map_err(|error| PageError::from(ApiError::from(error)))?;
    // The manufacturers offered in the filter: all for a server admin, else those the
    // person is a member of.
    let organisations: Vec<Organisation> = if user.server_admin {
        store
            .organisations()
            .await
            .map_err(|error| PageError::from(ApiError::from(error)))?
    } else {
        let mut mine = Vec::new();
        for (organisation, _) in &user.memberships {
            if let Ok(organisation) = store.organisation(organisation).await {
                mine.push(organisation);
            }
        }
        mine
    }
    .into_iter()
    .filter(|organisation| organisation.kind == OrganisationKind::Manufacturer)
    .collect();
    let next = page.next.map(|cursor| {
        let mut link = format!("/portfolio?after={}", encode(&cursor));
        if let Some(text) = &search {
            link.push_str(&format!("&q={}", encode(text)));
        }
        if let Some(id) = &organisation {
            link.push_str(&format!("&organisation={}", encode(id)));
        }
        link
    });
    let can_add = user.server_admin
        || user
            .memberships
            .iter()
            .any(|(_, role)| crate::auth::WRITERS.contains(role));
    Ok(render(&PortfolioPage {
        nav: signed.nav("portfolio"),
        rows: page.rows,
        total: page.total,
        filtered: search.is_some() || organisation.is_some(),
        q: filters.q,
        selected: filters.organisation,
        organisations,
        next,
        can_add,
    }))
}
