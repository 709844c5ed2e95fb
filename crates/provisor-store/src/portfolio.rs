//! Organisations (manufacturers and labs), their products and the products' firmware
//! releases, and the portfolio: every release a user may see with its assessments'
//! state, in one query.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Actor, Store, StoreError, audit, new_id, now_ms};

/// What an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrganisationKind {
    /// Makes devices: owns products.
    Manufacturer,
    /// Tests devices: sees the assessments it is assigned.
    Lab,
}

impl OrganisationKind {
    fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::Manufacturer => "manufacturer",
            OrganisationKind::Lab => "lab",
        }
    }

    fn parse(text: &str) -> OrganisationKind {
        if text == "lab" {
            OrganisationKind::Lab
        } else {
            OrganisationKind::Manufacturer
        }
    }
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// Manufacturer or lab.
    pub kind: OrganisationKind,
    /// Whether its members must use a TOTP second factor.
    pub require_totp: bool,
    /// When it was made.
    pub created_at: i64,
}

/// An organisation to create.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    /// The name.
    pub name: String,
    /// Manufacturer or lab.
    pub kind: OrganisationKind,
}

/// A product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// The id.
    pub id: String,
    /// The manufacturer.
    pub organisation_id: String,
    /// The name (unique within the manufacturer).
    pub name: String,
    /// The model designation.
    pub model: String,
    /// When it was made.
    pub created_at: i64,
}

/// A product to create.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// The name.
    pub name: String,
    /// The model designation.
    pub model: String,
}

/// A firmware release of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The id.
    pub id: String,
    /// The product.
    pub product_id: String,
    /// The firmware version.
    pub version: String,
    /// The end of the defined support period (5.3-13), `YYYY-MM-DD`.
    pub support_period_end: Option<String>,
    /// The firmware image's SHA-256, once uploaded.
    pub firmware_sha256: Option<String>,
    /// The image's file name.
    pub firmware_name: Option<String>,
    /// The image's size.
    pub firmware_size: Option<i64>,
    /// When it was made.
    pub created_at: i64,
}

/// A release to create.
#[derive(Debug, Clone)]
pub struct NewRelease {
    /// The firmware version.
    pub version: String,
    /// The end of the defined support period, `YYYY-MM-DD`.
    pub support_period_end: Option<String>,
}

/// One row of the portfolio: a release, its product and the state of its newest
/// assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortfolioRow {
    /// The manufacturer.
    pub organisation_id: String,
    /// The product.
    pub product_id: String,
    /// The product's name.
    pub product: String,
    /// The model.
    pub model: String,
    /// The release.
    pub release_id: String,
    /// The firmware version.
    pub version: String,
    /// When the release was made.
    pub release_created_at: i64,
    /// The end of the support period.
    pub support_period_end: Option<String>,
    /// The newest assessment, if any.
    pub assessment_id: Option<String>,
    /// Its edition.
    pub edition: Option<String>,
    /// Self or lab.
    pub kind: Option<String>,
    /// Whether its current revision is conformant.
    pub conformant: Option<bool>,
    /// Whether it is approved (locked).
    pub approved: bool,
    /// Its current revision's verdict counts, once judged.
    pub counts: Option<crate::Counts>,
}

fn organisation_from_row(row: &AnyRow) -> Organisation {
    Organisation {
        id: row.get("id"),
        name: row.get("name"),
        kind: OrganisationKind::parse(&row.get::<String, _>("kind")),
        require_totp: row.get::<i64, _>("require_totp") != 0,
        created_at: row.get("created_at"),
    }
}

fn product_from_row(row: &AnyRow) -> Product {
    Product {
        id: row.get("id"),
        organisation_id: row.get("organisation_id"),
        name: row.get("name"),
        model: row.get("model"),
        created_at: row.get("created_at"),
    }
}

fn release_from_row(row: &AnyRow) -> Release {
    Release {
        id: row.get("id"),
        product_id: row.get("product_id"),
        version: row.get("version"),
        support_period_end: row.get("support_period_end"),
        firmware_sha256: row.get("firmware_sha256"),
        firmware_name: row.get("firmware_name"),
        firmware_size: row.get("firmware_size"),
        created_at: row.get("created_at"),
    }
}

/// Sets a product's attention rank from its newest release's newest assessment, after
/// anything that may change it (a release, an assessment, a revision, its counts).
pub(crate) async fn rank_product(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    product: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE products SET attention = COALESCE((SELECT a.mandatory_unmet FROM releases r \
         JOIN assessments a ON a.id = r.newest_assessment_id WHERE r.id = products.latest_release_id), -1) \
         WHERE id = $1",
    )
    .bind(product)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn check_name(what: &str, name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{what} must be 1 to 200 bytes of text without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Checks a `YYYY-MM-DD` date.
pub(crate) fn check_date(what: &str, date: &str) -> Result<(), StoreError> {
    let bytes = date.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(at, byte)| at == 4 || at == 7 || byte.is_ascii_digit());
    let month = date.get(5..7).and_then(|text| text.parse::<u32>().ok());
    let day = date.get(8..10).and_then(|text| text.parse::<u32>().ok());
    if !shape || !matches!(month, Some(1..=12)) || !matches!(day, Some(1..=31)) {
        return Err(StoreError::Invalid(format!(
            "{what} \"{date}\" is not a date: use YYYY-MM-DD"
        )));
    }
    Ok(())
}

fn conflict_on_unique(error: sqlx::Error, message: String) -> StoreError {
    let error = StoreError::from(error);
    if error.is_unique_violation() {
        StoreError::Conflict(message)
    } else {
        error
    }
}

impl Store {
    /// Creates an organisation.
    pub async fn create_organisation(
        &self,
        actor: &Actor,
        new: &NewOrganisation,
    ) -> Result<Organisation, StoreError> {
        let name = check_name("an organisation's name", &new.name)?;
        let organisation = Organisation {
            id: new_id("org"),
            name,
            kind: new.kind,
            require_totp: false,
            created_at: now_ms(),
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO organisations (id, name, kind, require_totp, created_at) VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(&organisation.id)
        .bind(&organisation.name)
        .bind(organisation.kind.as_str())
        .bind(organisation.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|error| {
            conflict_on_unique(
                error,
                format!("an organisation named \"{}\" exists", organisation.name),
            )
        })?;
        audit::append(
            &mut tx,
            actor,
            "organisation.create",
            &organisation.id,
            Some(&organisation.id),
            None,
            Some(&json!(organisation)),
        )
        .await?;
        tx.commit().await?;
        Ok(organisation)
    }

    /// An organisation.
    pub async fn organisation(&self, id: &str) -> Result<Organisation, StoreError> {
        sqlx::query("SELECT * FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| organisation_from_row(&row))
            .ok_or_else(|| StoreError::NotFound(format!("organisation {id}")))
    }

    /// All organisations.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = sqlx::query("SELECT * FROM organisations ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(organisation_from_row).collect())
    }

    /// Requires (or stops requiring) a TOTP second factor of an organisation's members.
    pub async fn set_require_totp(
        &self,
        actor: &Actor,
        organisation: &str,
        require: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE organisations SET require_totp = $1 WHERE id = $2")
            .bind(i64::from(require))
            .bind(organisation)
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("organisation {organisation}")));
        }
        audit::append(
            &mut tx,
            actor,
            "organisation.require-totp",
            organisation,
            Some(organisation),
            None,
            Some(&json!({"require_totp": require})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a product of a manufacturer.
    pub async fn create_product(
        &self,
        actor: &Actor,
        organisation: &str,
        new: &NewProduct,
    ) -> Result<Product, StoreError> {
        let owner = self.organisation(organisation).await?;
        if owner.kind != OrganisationKind::Manufacturer {
            return Err(StoreError::Invalid(format!(
                "{} is a lab; products belong to manufacturers",
                owner.name
            )));
        }
        let product = Product {
            id: new_id("prd"),
            organisation_id: organisation.to_owned(),
            name: check_name("a product's name", &new.name)?,
            model: check_name("a product's model", &new.model)?,
            created_at: now_ms(),
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO products (id, organisation_id, name, model, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&product.id)
        .bind(&product.organisation_id)
        .bind(&product.name)
        .bind(&product.model)
        .bind(product.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|error| {
            conflict_on_unique(
                error,
                format!("{} already has a product named \"{}\"", owner.name, product.name),
            )
        })?;
        audit::append(
            &mut tx,
            actor,
            "product.create",
            &product.id,
            Some(organisation),
            None,
            Some(&json!(product)),
        )
        .await?;
        tx.commit().await?;
        Ok(product)
    }

    /// A product.
    pub async fn product(&self, id: &str) -> Result<Product, StoreError> {
        sqlx::query("SELECT * FROM products WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| product_from_row(&row))
            .ok_or_else(|| StoreError::NotFound(format!("product {id}")))
    }

    /// A manufacturer's products.
    pub async fn products(&self, organisation: &str) -> Result<Vec<Product>, StoreError> {
        let rows = sqlx::query("SELECT * FROM products WHERE organisation_id = $1 ORDER BY name")
            .bind(organisation)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(product_from_row).collect())
    }

    /// Creates a release of a product.
    pub async fn create_release(
        &self,
        actor: &Actor,
        product: &str,
        new: &NewRelease,
    ) -> Result<Release, StoreError> {
        let owner = self.product(product).await?;
        if let Some(end) = &new.support_period_end {
            check_date("the support period's end", end)?;
        }
        let release = Release {
            id: new_id("rel"),
            product_id: product.to_owned(),
            version: check_name("a release's version", &new.version)?,
            support_period_end: new.support_period_end.clone(),
            firmware_sha256: None,
            firmware_name: None,
            firmware_size: None,
            created_at: now_ms(),
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO releases (id, product_id, version, support_period_end, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&release.id)
        .bind(&release.product_id)
        .bind(&release.version)
        .bind(release.support_period_end.as_deref())
        .bind(release.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|error| {
            conflict_on_unique(
                error,
                format!("{} already has a release {}", owner.name, release.version),
            )
        })?;
        // The release made last is the product's latest, even when another was made in
        // the same millisecond (the time alone would leave the order to the random ids).
        sqlx::query("UPDATE products SET latest_release_id = $1 WHERE id = $2")
            .bind(&release.id)
            .bind(product)
            .execute(&mut *tx)
            .await?;
        rank_product(&mut tx, product).await?;
        audit::append(
            &mut tx,
            actor,
            "release.create",
            &release.id,
            Some(&owner.organisation_id),
            None,
            Some(&json!(release)),
        )
        .await?;
        tx.commit().await?;
        Ok(release)
    }

    /// A release.
    pub async fn release(&self, id: &str) -> Result<Release, StoreError> {
        sqlx::query("SELECT * FROM releases WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| release_from_row(&row))
            .ok_or_else(|| StoreError::NotFound(format!("release {id}")))
    }

    /// A product's releases.
    pub async fn releases(&self, product: &str) -> Result<Vec<Release>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM releases WHERE product_id = $1 ORDER BY created_at, version",
        )
        .bind(product)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(release_from_row).collect())
    }

    /// Records a release's firmware image (already stored as a blob of the manufacturer).
    pub async fn set_release_firmware(
        &self,
        actor: &Actor,
        release: &str,
        name: &str,
        sha256: &str,
        size: i64,
    ) -> Result<Release, StoreError> {
        let before = self.release(release).await?;
        let product = self.product(&before.product_id).await?;
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE releases SET firmware_sha256 = $1, firmware_name = $2, firmware_size = $3 WHERE id = $4",
        )
        .bind(sha256)
        .bind(name)
        .bind(size)
        .bind(release)
        .execute(&mut *tx)
        .await?;
        let mut after = before.clone();
        after.firmware_sha256 = Some(sha256.to_owned());
        after.firmware_name = Some(name.to_owned());
        after.firmware_size = Some(size);
        audit::append(
            &mut tx,
            actor,
            "release.firmware",
            release,
            Some(&product.organisation_id),
            Some(&json!(before)),
            Some(&json!(after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A page of the releases a user may see, with their newest assessment: a server
    /// admin sees all, a manufacturer's member its products, a lab's member the
    /// releases whose assessments the lab is assigned. Ordered as `query.order` says;
    /// `query.after` continues after the page that gave it.
    pub async fn portfolio(
        &self,
        user: &crate::User,
        query: &PortfolioQuery,
    ) -> Result<PortfolioPage, StoreError> {
        let member = "SELECT organisation_id FROM memberships WHERE user_id = $1";
        // Someone who sees whole products (a server admin, or a member of manufacturers
        // only) sees every release's newest assessment, which the release records, and
        // each product's newest release, which the product records. A lab's member sees
        // only what the lab was assigned, looked up row by row.
        let lab_member = !user.server_admin
            && sqlx::query(
                "SELECT COUNT(*) FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
                 WHERE m.user_id = $1 AND o.kind = 'lab'",
            )
            .bind(&user.id)
            .fetch_one(&self.pool)
            .await?
            .get::<i64, _>(0)
                > 0;
        // Conditions on the product alone, then those that need the release too.
        let mut on_product = vec![if user.server_admin {
            // Keeps `$1` in the text so that every variant binds the same parameters.
            "($1 = $1)".to_owned()
        } else if !lab_member {
            format!("p.organisation_id IN ({member})")
        } else {
            format!(
                "(p.organisation_id IN ({member}) OR r.id IN \
                 (SELECT a3.release_id FROM assessments a3 WHERE a3.lab_id IN ({member})))"
            )
        }];
        let mut on_release = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(organisation) = &query.organisation {
            binds.push(Bind::Text(organisation.clone()));
            on_product.push(format!("p.organisation_id = ${}", binds.len() + 1));
        }
        if let Some(text) = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
            binds.push(Bind::Text(pattern));
            let at = binds.len() + 1;
            on_release.push(format!(
                "(LOWER(p.name) LIKE ${at} ESCAPE '\\' OR LOWER(p.model) LIKE ${at} ESCAPE '\\' \
                 OR LOWER(r.version) LIKE ${at} ESCAPE '\\')"
            ));
        }
        if query.latest_only {
            // The product's newest release among those the user may see: for a lab's
            // member, the newest of those its assessments were assigned.
            on_release.push(if !lab_member {
                "r.id = p.latest_release_id".to_owned()
            } else {
                format!(
                    "((p.organisation_id IN ({member}) AND r.id = p.latest_release_id) OR \
                     (p.organisation_id NOT IN ({member}) AND NOT EXISTS (SELECT 1 FROM releases r2 \
                     WHERE r2.product_id = p.id AND (r2.created_at > r.created_at OR \
                     (r2.created_at = r.created_at AND r2.id > r.id)) AND r2.id IN \
                     (SELECT a4.release_id FROM assessments a4 WHERE a4.lab_id IN ({member})))))"
                )
            });
        }
        let product_only = on_product.join(" AND ");
        let filtered = on_product
            .iter()
            .chain(&on_release)
            .cloned()
            .collect::<Vec<_>>()
            .join(" AND ");
        // Each product's newest release is counted without reading the releases.
        let count = if query.latest_only && !lab_member && on_release.len() == 1 {
            format!(
                "SELECT COUNT(*) FROM products p WHERE p.latest_release_id IS NOT NULL AND {product_only}"
            )
        } else {
            format!(
                "SELECT COUNT(*) FROM products p CROSS JOIN releases r WHERE r.product_id = p.id AND {filtered}"
            )
        };
        let total: i64 = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(count)).bind(&user.id),
            &binds,
        )
        .fetch_one(&self.pool)
        .await?
        .get(0);

        let cursor = query
            .after
            .as_deref()
            .map(|text| PortfolioCursor::decode(text, query.order))
            .transpose()?;
        let limit = query.limit.clamp(1, PORTFOLIO_MAX_LIMIT);
        let fetch = limit + 1;
        // Each row's newest assessment the user may see: the one the release records,
        // or for a lab's member on another's product, the newest of those assigned to
        // the lab, looked up through the index on release and age (a lab's member must
        // not learn of the manufacturer's own assessments).
        let newest = if !lab_member {
            "r.newest_assessment_id".to_owned()
        } else {
            format!(
                "CASE WHEN p.organisation_id IN ({member}) THEN r.newest_assessment_id ELSE \
                 (SELECT a2.id FROM assessments a2 WHERE a2.release_id = r.id AND a2.lab_id IN ({member}) \
                 ORDER BY a2.created_at DESC, a2.id DESC LIMIT 1) END"
            )
        };
        let columns = "p.organisation_id, p.id AS product_id, p.name AS product, p.model, \
             r.id AS release_id, r.version, r.support_period_end, r.created_at AS release_created_at";
        let assessment_columns = format!(
            "a.id AS assessment_id, a.edition, a.kind, a.conformant, a.approved_revision, {}",
            crate::Counts::COLUMNS
                .map(|column| format!("a.{column}"))
                .join(", ")
        );
        let mut page_binds = binds.clone();
        let at = page_binds.len() + 2;
        let text = match query.order {
            PortfolioOrder::Name => {
                let mut paged = filtered.clone();
                if let Some(key) = &cursor {
                    // `p.name >= …` lets the index on product names seek to the page.
                    paged.push_str(&format!(
                        " AND p.name >= ${a} AND (p.name > ${a} OR (p.name = ${a} AND (p.id > ${b} OR (p.id = ${b} AND \
                         (r.created_at > ${c} OR (r.created_at = ${c} AND r.id > ${d}))))))",
                        a = at,
                        b = at + 1,
                        c = at + 2,
                        d = at + 3
                    ));
                    key.bind_to(&mut page_binds, false);
                }
                // The page is chosen first and materialised, so that the assessments
                // are joined to its rows only; one row more than the page tells whether
                // another page follows. `CROSS JOIN` makes SQLite walk products in name
                // order and stop after the page (a plain join scanned every release and
                // sorted them all: 8 ms instead of 1 for 3 000 releases); on PostgreSQL
                // it is the same inner join. Both engines know `MATERIALIZED`.
                format!(
                    "WITH page AS MATERIALIZED (SELECT {columns}, {newest} AS newest_id \
                       FROM products p CROSS JOIN releases r WHERE r.product_id = p.id AND {paged} \
                       ORDER BY p.name, p.id, r.created_at, r.id LIMIT {fetch}) \
                     SELECT page.*, 0 AS attention, {assessment_columns} \
                     FROM page LEFT JOIN assessments a ON a.id = page.newest_id \
                     ORDER BY page.product, page.product_id, page.release_created_at, page.release_id"
                )
            }
            PortfolioOrder::Attention if query.latest_only && !lab_member => {
                // One row per product, ranked by the product's own attention column:
                // the index on it gives the page in order without reading the rest;
                // the page is materialised and only its rows meet the assessments, as
                // in name order.
                let mut after = String::new();
                if let Some(key) = &cursor {
                    after = format!(
                        " AND (p.attention < ${e} OR (p.attention = ${e} AND (p.name > ${a} OR \
                         (p.name = ${a} AND p.id > ${b}))))",
                        a = at,
                        b = at + 1,
                        e = at + 4
                    );
                    key.bind_to(&mut page_binds, true);
                }
                format!(
                    "WITH page AS MATERIALIZED (SELECT {columns}, r.newest_assessment_id AS newest_id, \
                       p.attention AS attention \
                       FROM products p CROSS JOIN releases r WHERE {filtered}{after} \
                       ORDER BY p.attention DESC, p.name, p.id LIMIT {fetch}) \
                     SELECT page.*, {assessment_columns} \
                     FROM page LEFT JOIN assessments a ON a.id = page.newest_id \
                     ORDER BY page.attention DESC, page.product, page.product_id"
                )
            }
            PortfolioOrder::Attention => {
                // The order depends on every row's newest assessment, so every row the
                // filters leave is looked at; the releases without one come last.
                let mut after = String::from("1 = 1");
                if let Some(key) = &cursor {
                    after = format!(
                        "(attention < ${e} OR (attention = ${e} AND (product > ${a} OR (product = ${a} AND \
                         (product_id > ${b} OR (product_id = ${b} AND (release_created_at > ${c} OR \
                         (release_created_at = ${c} AND release_id > ${d}))))))))",
                        a = at,
                        b = at + 1,
                        c = at + 2,
                        d = at + 3,
                        e = at + 4
                    );
                    key.bind_to(&mut page_binds, true);
                }
                format!(
                    "WITH visible AS MATERIALIZED (SELECT {columns}, {newest} AS newest_id \
                       FROM products p CROSS JOIN releases r WHERE r.product_id = p.id AND {filtered}), \
                     ranked AS (SELECT visible.*, COALESCE(a.mandatory_unmet, -1) AS attention, {assessment_columns} \
                       FROM visible LEFT JOIN assessments a ON a.id = visible.newest_id) \
                     SELECT * FROM ranked WHERE {after} \
                     ORDER BY attention DESC, product, product_id, release_created_at, release_id LIMIT {fetch}"
                )
            }
        };
        let rows = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(text)).bind(&user.id),
            &page_binds,
        )
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() > limit as usize;
        let mut attention = 0;
        let rows: Vec<PortfolioRow> = rows
            .iter()
            .take(limit as usize)
            .map(|row| {
                attention = row.get::<i64, _>("attention");
                PortfolioRow {
                    organisation_id: row.get("organisation_id"),
                    product_id: row.get("product_id"),
                    product: row.get("product"),
                    model: row.get("model"),
                    release_id: row.get("release_id"),
                    version: row.get("version"),
                    release_created_at: row.get("release_created_at"),
                    support_period_end: row.get("support_period_end"),
                    assessment_id: row.get("assessment_id"),
                    edition: row.get("edition"),
                    kind: row.get("kind"),
                    conformant: row
                        .get::<Option<i64>, _>("conformant")
                        .map(|value| value != 0),
                    approved: row.get::<Option<i64>, _>("approved_revision").is_some(),
                    counts: crate::Counts::from_row(row),
                }
            })
            .collect();
        let next = match rows.last() {
            Some(last) if more => Some(
                PortfolioCursor {
                    order: query.order,
                    attention,
                    product_name: last.product.clone(),
                    product_id: last.product_id.clone(),
                    release_created_at: last.release_created_at,
                    release_id: last.release_id.clone(),
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(PortfolioPage { rows, total, next })
    }
}

/// The most rows one portfolio page holds.
pub const PORTFOLIO_MAX_LIMIT: i64 = 1000;

/// Which page of the portfolio to read.
#[derive(Debug, Clone)]
pub struct PortfolioQuery {
    /// Rows per page, 1 to [`PORTFOLIO_MAX_LIMIT`].
    pub limit: i64,
    /// The cursor a previous page gave, to continue after it.
    pub after: Option<String>,
    /// Only this manufacturer's releases.
    pub organisation: Option<String>,
    /// Only releases whose product name, model or version contains this text, ignoring
    /// case.
    pub search: Option<String>,
    /// Only each product's newest release (that the user may see).
    pub latest_only: bool,
    /// The order of the rows.
    pub order: PortfolioOrder,
}

/// The order of the portfolio's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortfolioOrder {
    /// By product name, then product, then release age.
    #[default]
    Name,
    /// The most mandatory provisions failed or not fulfilled first, then as by name;
    /// the releases without an assessment, or whose counts are not known yet, last.
    Attention,
}

impl Default for PortfolioQuery {
    fn default() -> PortfolioQuery {
        PortfolioQuery {
            limit: 100,
            after: None,
            organisation: None,
            search: None,
            latest_only: false,
            order: PortfolioOrder::Name,
        }
    }
}

/// One page of the portfolio.
#[derive(Debug, Clone)]
pub struct PortfolioPage {
    /// The rows, in order.
    pub rows: Vec<PortfolioRow>,
    /// How many rows all pages hold together.
    pub total: i64,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// Where a page of the portfolio ends: the order and the sort key of its last row,
/// opaque to callers (hex of a JSON array), so that a cursor names no row the caller
/// could not see.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PortfolioCursor {
    order: PortfolioOrder,
    attention: i64,
    product_name: String,
    product_id: String,
    release_created_at: i64,
    release_id: String,
}

impl PortfolioCursor {
    fn encode(&self) -> String {
        let key = json!([
            self.order,
            self.attention,
            self.product_name,
            self.product_id,
            self.release_created_at,
            self.release_id
        ]);
        crate::hex(key.to_string().as_bytes())
    }

    fn decode(text: &str, order: PortfolioOrder) -> Result<PortfolioCursor, StoreError> {
        let invalid = || {
            StoreError::Invalid(format!(
                "the cursor {text:?} is not one a portfolio page in this order gave; start again without `after`"
            ))
        };
        let bytes = crate::decode_hex(text).ok_or_else(invalid)?;
        let (given, attention, product_name, product_id, release_created_at, release_id): (
            PortfolioOrder,
            i64,
            String,
            String,
            i64,
            String,
        ) = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if given != order {
            return Err(invalid());
        }
        Ok(PortfolioCursor {
            order,
            attention,
            product_name,
            product_id,
            release_created_at,
            release_id,
        })
    }

    /// Binds the key's parts in the order the queries number them: name, product,
    /// release age, release, and the attention rank when `attention`.
    fn bind_to(&self, binds: &mut Vec<Bind>, attention: bool) {
        binds.push(Bind::Text(self.product_name.clone()));
        binds.push(Bind::Text(self.product_id.clone()));
        binds.push(Bind::Int(self.release_created_at));
        binds.push(Bind::Text(self.release_id.clone()));
        if attention {
            binds.push(Bind::Int(self.attention));
        }
    }
}

/// A parameter of a query built from parts.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text.clone()),
            Bind::Int(number) => query.bind(*number),
        };
    }
    query
}

/// `text` with the characters LIKE gives a meaning escaped by a backslash.
fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
