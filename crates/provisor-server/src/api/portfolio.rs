//! Products and releases of a manufacturer, and the portfolio every caller sees.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use provisor_store::{
    NewProduct, NewRelease, PORTFOLIO_MAX_LIMIT, PortfolioOrder, PortfolioQuery, PortfolioRow,
    Product, Release,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::assessments::{AssessmentView, VerdictCounts};
use crate::auth::{Caller, READERS, WRITERS};
use crate::extract::{Json, Query};
use crate::{ApiError, AppState, ProblemPlace};

/// One release in the portfolio, with its newest assessment the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioEntry {
    /// The manufacturer.
    pub organisation_id: String,
    /// The product.
    pub product_id: String,
    /// Its name.
    pub product: String,
    /// Its model.
    pub model: String,
    /// The release.
    pub release_id: String,
    /// The firmware version.
    pub version: String,
    /// The end of the defined support period (5.3-13).
    pub support_period_end: Option<String>,
    /// The newest assessment.
    pub assessment_id: Option<String>,
    /// Its edition.
    pub edition: Option<String>,
    /// self or lab.
    pub kind: Option<String>,
    /// Whether its current revision is conformant.
    pub conformant: Option<bool>,
    /// Whether it is approved.
    pub approved: bool,
    /// Its current revision's verdicts counted (absent until the server has judged it).
    pub counts: Option<VerdictCounts>,
    /// Whether the release is in its support period (no end given counts as in).
    pub in_support: bool,
    /// What monitoring found in the release's SBOM; absent until its firmware is scanned.
    pub monitoring: Option<MonitoringCounts>,
}

/// A release's open vulnerabilities as monitoring found them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoringCounts {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
    /// Of no known severity.
    pub unknown: u64,
    /// Listed by CISA as exploited.
    pub known_exploited: u64,
    /// Found after the newest assessment last changed.
    pub new_since_assessment: u64,
    /// Open ones whose decision, carried from an earlier release, waits to be
    /// confirmed for this one.
    pub to_confirm: u64,
    /// Matched but settled by the release's decisions (not affected, a false positive,
    /// fixed); not in the counts above.
    pub settled: u64,
}

impl From<provisor_store::ReleaseMonitoring> for MonitoringCounts {
    fn from(counts: provisor_store::ReleaseMonitoring) -> MonitoringCounts {
        MonitoringCounts {
            critical: counts.critical,
            high: counts.high,
            medium: counts.medium,
            low: counts.low,
            unknown: counts.unknown,
            known_exploited: counts.known_exploited,
            new_since_assessment: counts.new_since_assessment,
            to_confirm: counts.to_confirm,
            settled: counts.settled,
        }
    }
}

impl From<PortfolioRow> for PortfolioEntry {
    fn from(row: PortfolioRow) -> PortfolioEntry {
        PortfolioEntry {
            organisation_id: row.organisation_id,
            product_id: row.product_id,
            product: row.product,
            model: row.model,
            release_id: row.release_id,
            version: row.version,
            support_period_end: row.support_period_end,
            assessment_id: row.assessment_id,
            edition: row.edition,
            kind: row.kind,
            conformant: row.conformant,
            approved: row.approved,
            counts: row.counts.map(VerdictCounts::from),
            in_support: true,
            monitoring: None,
        }
    }
}

/// Which page of the portfolio, and which releases.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PortfolioParams {
    /// Releases per page (1 to 1000; 100 when absent).
    pub limit: Option<i64>,
    /// The `next` of the previous page, to continue after it.
    pub after: Option<String>,
    /// Only this manufacturer's releases.
    pub organisation: Option<String>,
    /// Only releases whose product name, model or version contains this text (case
    /// ignored).
    pub q: Option<String>,
    /// Only each product's newest release.
    pub latest: Option<bool>,
    /// `name` (product name, then release age; the default) or `attention` (the most
    /// mandatory provisions unmet first).
    #[param(inline)]
    pub order: Option<Order>,
}

/// The order of the portfolio's rows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// By product name, then product, then release age.
    Name,
    /// The most mandatory provisions failed or not fulfilled first.
    Attention,
}

impl From<Order> for PortfolioOrder {
    fn from(order: Order) -> PortfolioOrder {
        match order {
            Order::Name => PortfolioOrder::Name,
            Order::Attention => PortfolioOrder::Attention,
        }
    }
}

/// A page of the portfolio.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioPageView {
    /// The releases, in the order asked.
    pub items: Vec<PortfolioEntry>,
    /// How many releases all pages hold together.
    pub total: i64,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
    /// When the newest advisory import ended (ms since the epoch): how current the
    /// monitoring counts are.
    pub advisories_imported_at: Option<i64>,
}

/// The releases the caller may see, a page at a time, with their newest assessment's
/// state.
#[utoipa::path(get, path = "/api/v1/portfolio", tag = "portfolio", params(PortfolioParams),
    responses((status = 200, body = PortfolioPageView)))]
pub async fn portfolio(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PortfolioParams>,
) -> Result<axum::Json<PortfolioPageView>, ApiError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=PORTFOLIO_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            format!("limit {limit} is not between 1 and {PORTFOLIO_MAX_LIMIT}"),
            vec![ProblemPlace {
                location: "limit".into(),
                message: "give a number of releases per page from 1 to 1000".into(),
            }],
        ));
    }
    let page = state
        .store()
        .portfolio(
            &caller.user,
            &PortfolioQuery {
                limit,
                after: params.after,
                organisation: params.organisation,
                search: params.q,
                latest_only: params.latest.unwrap_or(false),
                order: params
                    .order
                    .map_or(PortfolioOrder::Name, PortfolioOrder::from),
            },
        )
        .await?;
    let releases: Vec<String> = page.rows.iter().map(|row| row.release_id.clone()).collect();
    let mut monitoring = state.store().releases_monitoring(&releases).await?;
    let today = crate::judge::today().to_string();
    let items = page
        .rows
        .into_iter()
        .map(|row| {
            let counts = monitoring.remove(&row.release_id);
            let mut entry = PortfolioEntry::from(row);
            entry.in_support = entry
                .support_period_end
                .as_deref()
                .is_none_or(|end| end >= today.as_str());
            entry.monitoring = counts.map(MonitoringCounts::from);
            entry
        })
        .collect();
    Ok(axum::Json(PortfolioPageView {
        items,
        total: page.total,
        next: page.next,
        advisories_imported_at: state.store().last_advisory_import().await?,
    }))
}

/// A product as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    /// The id.
    pub id: String,
    /// The manufacturer.
    pub organisation_id: String,
    /// The name.
    pub name: String,
    /// The model.
    pub model: String,
    /// Its releases, oldest first (in a product's own view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub releases: Option<Vec<ReleaseView>>,
}

impl From<&Product> for ProductView {
    fn from(product: &Product) -> ProductView {
        ProductView {
            id: product.id.clone(),
            organisation_id: product.organisation_id.clone(),
            name: product.name.clone(),
            model: product.model.clone(),
            releases: None,
        }
    }
}

/// A release as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseView {
    /// The id.
    pub id: String,
    /// The product.
    pub product_id: String,
    /// The firmware version.
    pub version: String,
    /// The end of the defined support period.
    pub support_period_end: Option<String>,
    /// The firmware image's SHA-256, once uploaded.
    pub firmware_sha256: Option<String>,
    /// Its file name.
    pub firmware_name: Option<String>,
    /// Its size.
    pub firmware_size: Option<i64>,
    /// Its assessments the caller may see, newest first (in a release's own view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessments: Option<Vec<AssessmentView>>,
}

impl From<&Release> for ReleaseView {
    fn from(release: &Release) -> ReleaseView {
        ReleaseView {
            id: release.id.clone(),
            product_id: release.product_id.clone(),
            version: release.version.clone(),
            support_period_end: release.support_period_end.clone(),
            firmware_sha256: release.firmware_sha256.clone(),
            firmware_name: release.firmware_name.clone(),
            firmware_size: release.firmware_size,
            assessments: None,
        }
    }
}

/// A manufacturer's products.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/products", tag = "portfolio", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ProductView>)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    Path(organisation): Path<String>,
) -> Result<axum::Json<Vec<ProductView>>, ApiError> {
    caller.require_role(
        &organisation,
        READERS,
        &format!("organisation {organisation}"),
    )?;
    let products = state.store().products(&organisation).await?;
    Ok(axum::Json(products.iter().map(ProductView::from).collect()))
}

/// A product to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    /// The name (unique within the manufacturer).
    pub name: String,
    /// The model designation.
    pub model: String,
}

/// Creates a product of a manufacturer (its admins and editors).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/products", tag = "portfolio", params(("id" = String, Path)),
    request_body = ProductRequest, responses((status = 201, body = ProductView)))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(organisation): Path<String>,
    Json(request): Json<ProductRequest>,
) -> Result<(StatusCode, axum::Json<ProductView>), ApiError> {
    caller.require_role(
        &organisation,
        WRITERS,
        &format!("organisation {organisation}"),
    )?;
    let product = state
        .store()
        .create_product(
            &caller.actor(),
            &organisation,
            &NewProduct {
                name: request.name,
                model: request.model,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ProductView::from(&product))))
}

/// A product with its releases.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "portfolio", params(("id" = String, Path)),
    responses((status = 200, body = ProductView)))]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ProductView>, ApiError> {
    let product = state.store().product(&id).await?;
    caller.require_role(&product.organisation_id, READERS, &format!("product {id}"))?;
    let releases = state.store().releases(&id).await?;
    let mut view = ProductView::from(&product);
    view.releases = Some(releases.iter().map(ReleaseView::from).collect());
    Ok(axum::Json(view))
}

/// A release to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// The firmware version.
    pub version: String,
    /// The end of the defined support period (5.3-13), YYYY-MM-DD.
    #[serde(default)]
    pub support_period_end: Option<String>,
}

/// Creates a release of a product (the manufacturer's admins and editors).
#[utoipa::path(post, path = "/api/v1/products/{id}/releases", tag = "portfolio", params(("id" = String, Path)),
    request_body = ReleaseRequest, responses((status = 201, body = ReleaseView)))]
pub async fn create_release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<ReleaseRequest>,
) -> Result<(StatusCode, axum::Json<ReleaseView>), ApiError> {
    let product = state.store().product(&id).await?;
    caller.require_role(&product.organisation_id, WRITERS, &format!("product {id}"))?;
    let release = state
        .store()
        .create_release(
            &caller.actor(),
            &id,
            &NewRelease {
                version: request.version,
                support_period_end: request.support_period_end,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ReleaseView::from(&release))))
}

/// A release with the assessments the caller may see.
#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "portfolio", params(("id" = String, Path)),
    responses((status = 200, body = ReleaseView)))]
pub async fn get_release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ReleaseView>, ApiError> {
    let release = state.store().release(&id).await?;
    let product = state.store().product(&release.product_id).await?;
    let assessments = state.store().assessments_of_release(&id).await?;
    let visible: Vec<_> = assessments
        .iter()
        .filter(|record| caller.assessment_role(record).is_some())
        .collect();
    if caller.role_in(&product.organisation_id).is_none() && visible.is_empty() {
        return Err(ApiError::not_found(format!("release {id} not found")));
    }
    let mut view = ReleaseView::from(&release);
    view.assessments = Some(visible.into_iter().map(AssessmentView::from).collect());
    Ok(axum::Json(view))
}
