//! The portfolio page: each product's newest release (or every release) the person may
//! see, with its newest assessment's verdicts counted, mandatory failures first, a page
//! at a time, searched and filtered by manufacturer.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use provisor_store::{
    Organisation, OrganisationKind, PortfolioOrder, PortfolioQuery, PortfolioRow,
};
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
    /// `all` shows every release; each product's newest otherwise.
    #[serde(default)]
    releases: String,
    /// `name` orders by product; the most mandatory failures come first otherwise.
    #[serde(default)]
    order: String,
}

impl Filters {
    fn latest_only(&self) -> bool {
        self.releases != "all"
    }

    fn order(&self) -> PortfolioOrder {
        if self.order == "name" {
            PortfolioOrder::Name
        } else {
            PortfolioOrder::Attention
        }
    }

    /// The query string of these filters, without the cursor.
    fn query(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("q", self.q.trim()),
            ("organisation", self.organisation.as_str()),
            ("releases", if self.latest_only() { "" } else { "all" }),
            (
                "order",
                if self.order() == PortfolioOrder::Name {
                    "name"
                } else {
                    ""
                },
            ),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode(value)));
            }
        }
        parts.join("&")
    }
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
    all_releases: bool,
    by_name: bool,
    /// What monitoring found per release of the page (those with an SBOM).
    monitoring: std::collections::HashMap<String, provisor_store::ReleaseMonitoring>,
}

impl PortfolioPage {
    /// An edition as the table names it (`V3.1.3`).
    fn edition_label(&self, id: &str) -> String {
        provisor_catalog::edition(id)
            .and_then(|catalog| catalog.short_title.rsplit(' ').next().map(str::to_owned))
            .unwrap_or_else(|| id.to_owned())
    }

    /// What monitoring found in a release, if its firmware was scanned.
    fn monitored(&self, release: &str) -> Option<&provisor_store::ReleaseMonitoring> {
        self.monitoring.get(release)
    }
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
                latest_only: filters.latest_only(),
                order: filters.order(),
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
        let query = filters.query();
        if !query.is_empty() {
            link.push('&');
            link.push_str(&query);
        }
        link
    });
    let can_add = user.server_admin
        || user
            .memberships
            .iter()
            .any(|(_, role)| crate::auth::WRITERS.contains(role));
    let releases: Vec<String> = page.rows.iter().map(|row| row.release_id.clone()).collect();
    let monitoring = store
        .releases_monitoring(&releases)
        .await
        .map_err(|error| PageError::from(ApiError::from(error)))?;
    Ok(render(&PortfolioPage {
        nav: signed.nav("portfolio"),
        monitoring,
        rows: page.rows,
        total: page.total,
        filtered: search.is_some() || organisation.is_some(),
        all_releases: !filters.latest_only(),
        by_name: filters.order() == PortfolioOrder::Name,
        q: filters.q,
        selected: filters.organisation,
        organisations,
        next,
        can_add,
    }))
}
