//! Decisions that carry (5.2-3, migration 0007): what a manufacturer decided about a
//! vulnerability of a component of a release, in CycloneDX's VEX vocabulary.
//!
//! A decision is kept per release, component key (package type and name, so it holds
//! for the next version of the component) and vulnerability. A release without a
//! decision of its own shows the one of the latest release of its product before it
//! that has one (releases are ordered by version, with dpkg's ordering, so `1.10`
//! follows `1.9`; then by when they were made), marked carried: it still counts as open
//! until somebody confirms it for this release ([`Store::confirm_analyses`]), which
//! copies it. Every change is appended to
//! the audit log and to the decision's own history, in the transaction that makes it.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Actor, Store, StoreError, audit, new_id, now_ms};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// CycloneDX's analysis states (`vulnerabilities[].analysis.state`).
pub const STATES: [&str; 6] = [
    "resolved",
    "resolved_with_pedigree",
    "exploitable",
    "in_triage",
    "false_positive",
    "not_affected",
];

/// CycloneDX's justifications of `not_affected`.
pub const JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// CycloneDX's responses.
pub const RESPONSES: [&str; 5] = [
    "can_not_fix",
    "will_not_fix",
    "update",
    "rollback",
    "workaround_available",
];

/// The most characters a decision's detail may have.
pub const MAX_DETAIL: usize = 8_000;

/// A decision about one vulnerability of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Decision {
    /// One of [`STATES`].
    pub state: String,
    /// One of [`JUSTIFICATIONS`], for `not_affected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Some of [`RESPONSES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response: Vec<String>,
    /// Why, in words.
    #[serde(default)]
    pub detail: String,
}

impl Decision {
    /// Refuses a decision outside CycloneDX's vocabulary, or one that does not say
    /// enough: `not_affected` needs a justification or a detail (what CISA's minimum
    /// requirements for VEX ask of it), a justification belongs to `not_affected` only.
    pub fn check(&self) -> Result<(), String> {
        if !STATES.contains(&self.state.as_str()) {
            return Err(format!(
                "state \"{}\" is not one of CycloneDX's: {}",
                self.state,
                STATES.join(", ")
            ));
        }
        if let Some(justification) = &self.justification {
            if !JUSTIFICATIONS.contains(&justification.as_str()) {
                return Err(format!(
                    "justification \"{justification}\" is not one of CycloneDX's: {}",
                    JUSTIFICATIONS.join(", ")
                ));
            }
            if self.state != "not_affected" {
                return Err(format!(
                    "a justification says why a component is not affected; the state is \"{}\"",
                    self.state
                ));
            }
        }
        for response in &self.response {
            if !RESPONSES.contains(&response.as_str()) {
                return Err(format!(
                    "response \"{response}\" is not one of CycloneDX's: {}",
                    RESPONSES.join(", ")
                ));
            }
        }
        if self.state == "not_affected"
            && self.justification.is_none()
            && self.detail.trim().is_empty()
        {
            return Err("not_affected needs a justification or a detail that says why".to_owned());
        }
        if self.detail.chars().count() > MAX_DETAIL {
            return Err(format!("the detail has more than {MAX_DETAIL} characters"));
        }
        Ok(())
    }

    /// Whether it settles the vulnerability for the release: not affected, a false
    /// positive, or fixed.
    pub fn settles(&self) -> bool {
        settles(&self.state)
    }
}

/// The states that settle a vulnerability (see [`Decision::settles`]).
const SETTLING: [&str; 4] = [
    "not_affected",
    "false_positive",
    "resolved",
    "resolved_with_pedigree",
];

/// [`SETTLING`] as an SQL list, for `state IN (…)`.
pub(crate) fn settling_sql() -> String {
    SETTLING.map(|state| format!("'{state}'")).join(", ")
}

/// Whether a state settles a vulnerability (see [`Decision::settles`]).
pub fn settles(state: &str) -> bool {
    SETTLING.contains(&state)
}

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A person decided it for this release.
    Person,
    /// A person confirmed the decision carried from an earlier release.
    Confirmed,
    /// A VEX statement uploaded with, or after, the release's SBOM.
    Vex,
    /// A known backport: a patch in the component's pedigree, Yocto's `CVE_STATUS`, a
    /// CVE id in a patch's name.
    Backport,
}

impl Origin {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Person => "person",
            Origin::Confirmed => "confirmed",
            Origin::Vex => "vex",
            Origin::Backport => "backport",
        }
    }
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// Its id.
    pub id: String,
    /// The release it was made for.
    pub release_id: String,
    /// That release's version.
    pub release_version: String,
    /// The product.
    pub product_id: String,
    /// The component's key: its package type and name (`deb:openssl`).
    pub component: String,
    /// The vulnerability.
    pub vulnerability: String,
    /// What was decided.
    #[serde(flatten)]
    pub decision: Decision,
    /// `person`, `confirmed`, `vex` or `backport`.
    pub origin: String,
    /// The decision a confirmation copied.
    pub carried_from: Option<String>,
    /// Who decided (`Actor::label`).
    pub decided_by: String,
    /// When it was first made.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// The decision that holds for a release: its own, or one carried from an earlier
/// release of its product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effective {
    /// The decision.
    #[serde(flatten)]
    pub analysis: Analysis,
    /// Whether it was made for an earlier release and waits to be confirmed for this
    /// one.
    pub carried: bool,
}

impl Effective {
    /// Whether it settles the vulnerability for the release: a decision of its own
    /// that does (a carried one settles nothing until confirmed).
    pub fn settles(&self) -> bool {
        !self.carried && self.analysis.decision.settles()
    }
}

/// One change of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// The release it was made for.
    pub release_id: String,
    /// `set`, `confirm` or `remove`.
    pub action: String,
    /// The decision after the change (none after `remove`).
    pub decision: Option<Decision>,
    /// Where it came from.
    pub origin: Option<String>,
    /// Who.
    pub actor: String,
    /// When.
    pub at: i64,
}

/// The release a decision is made for: its product, organisation and age.
struct ReleaseOf {
    product: String,
    organisation: String,
    version: String,
    created_at: i64,
}

async fn release_of(tx: &mut Tx, release: &str) -> Result<ReleaseOf, StoreError> {
    let row = sqlx::query(
        "SELECT r.product_id, r.version, r.created_at, p.organisation_id FROM releases r \
         JOIN products p ON p.id = r.product_id WHERE r.id = $1",
    )
    .bind(release)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("release {release}")))?;
    Ok(ReleaseOf {
        product: row.get("product_id"),
        organisation: row.get("organisation_id"),
        version: row.get("version"),
        created_at: row.get("created_at"),
    })
}

const COLUMNS: &str = "a.id, a.release_id, r.version AS release_version, a.product_id, a.component, \
     a.vulnerability, a.state, a.justification, a.response, a.detail, a.origin, a.carried_from, \
     a.decided_by, a.created_at, a.updated_at";

fn analysis_from_row(row: &AnyRow) -> Analysis {
    Analysis {
        id: row.get("id"),
        release_id: row.get("release_id"),
        release_version: row.get("release_version"),
        product_id: row.get("product_id"),
        component: row.get("component"),
        vulnerability: row.get("vulnerability"),
        decision: Decision {
            state: row.get("state"),
            justification: row.get("justification"),
            response: serde_json::from_str(&row.get::<String, _>("response")).unwrap_or_default(),
            detail: row.get("detail"),
        },
        origin: row.get("origin"),
        carried_from: row.get("carried_from"),
        decided_by: row.get("decided_by"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    }
}

async fn own(
    tx: &mut Tx,
    release: &str,
    component: &str,
    vulnerability: &str,
) -> Result<Option<Analysis>, StoreError> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM vulnerability_analyses a JOIN releases r ON r.id = a.release_id \
         WHERE a.release_id = $1 AND a.component = $2 AND a.vulnerability = $3"
    )))
    .bind(release)
    .bind(component)
    .bind(vulnerability)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(analysis_from_row))
}

/// Where a decision is written: the release and what it is about.
pub(crate) struct Subject<'a> {
    pub release: &'a str,
    pub component: &'a str,
    pub vulnerability: &'a str,
}

/// Writes a release's own decisions within one transaction: what the release is is
/// read once, the portfolio's turn taken once, and for a whole upload the decisions the
/// release already holds are read once ([`Writer::holding_all`]).
struct Writer {
    release_id: String,
    release: ReleaseOf,
    /// The release's own decisions by (component, vulnerability), when read whole.
    held: Option<HashMap<(String, String), Analysis>>,
    turned: bool,
}

impl Writer {
    /// A writer for a release (`NotFound` without it).
    async fn open(tx: &mut Tx, release: &str) -> Result<Writer, StoreError> {
        Ok(Writer {
            release_id: release.to_owned(),
            release: release_of(tx, release).await?,
            held: None,
            turned: false,
        })
    }

    /// Reads every decision the release holds, so that each write need not look its
    /// own up.
    async fn holding_all(mut self, tx: &mut Tx) -> Result<Writer, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM vulnerability_analyses a JOIN releases r ON r.id = a.release_id \
             WHERE a.release_id = $1"
        )))
        .bind(&self.release_id)
        .fetch_all(&mut **tx)
        .await?;
        self.held = Some(
            rows.iter()
                .map(analysis_from_row)
                .map(|held| ((held.component.clone(), held.vulnerability.clone()), held))
                .collect(),
        );
        Ok(self)
    }

    /// The release's own decision about this vulnerability of this component.
    async fn held(
        &self,
        tx: &mut Tx,
        component: &str,
        vulnerability: &str,
    ) -> Result<Option<Analysis>, StoreError> {
        match &self.held {
            Some(held) => Ok(held
                .get(&(component.to_owned(), vulnerability.to_owned()))
                .cloned()),
            None => own(tx, &self.release_id, component, vulnerability).await,
        }
    }

    /// Writes the release's own decision (replacing the one it had), with its history
    /// and audit entries; `None` when it already said exactly this.
    async fn write(
        &mut self,
        tx: &mut Tx,
        actor: &Actor,
        (component, vulnerability): (&str, &str),
        decision: &Decision,
        origin: Origin,
        carried_from: Option<&str>,
    ) -> Result<Option<Analysis>, StoreError> {
        decision.check().map_err(StoreError::Invalid)?;
        check_key("component", component)?;
        check_key("vulnerability", vulnerability)?;
        let before = self.held(tx, component, vulnerability).await?;
        if let Some(before) = &before
            && before.decision == *decision
            && before.origin == origin.as_str()
        {
            return Ok(None);
        }
        if !self.turned {
            // The portfolio's counts change with the decision.
            crate::monitoring::take_turn(tx).await?;
            self.turned = true;
        }
        let now = now_ms();
        let response = serde_json::to_string(&decision.response).expect("strings serialize");
        let after = Analysis {
            id: before
                .as_ref()
                .map_or_else(|| new_id("vex"), |before| before.id.clone()),
            release_id: self.release_id.clone(),
            release_version: self.release.version.clone(),
            product_id: self.release.product.clone(),
            component: component.to_owned(),
            vulnerability: vulnerability.to_owned(),
            decision: decision.clone(),
            origin: origin.as_str().to_owned(),
            carried_from: carried_from.map(str::to_owned),
            decided_by: actor.label(),
            created_at: before.as_ref().map_or(now, |before| before.created_at),
            updated_at: now,
        };
        sqlx::query(
            "INSERT INTO vulnerability_analyses (id, release_id, product_id, component, vulnerability, \
             state, justification, response, detail, origin, carried_from, decided_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (release_id, component, vulnerability) DO UPDATE SET state = $6, \
             justification = $7, response = $8, detail = $9, origin = $10, carried_from = $11, \
             decided_by = $12, updated_at = $14",
        )
        .bind(&after.id)
        .bind(&after.release_id)
        .bind(&after.product_id)
        .bind(component)
        .bind(vulnerability)
        .bind(&decision.state)
        .bind(&decision.justification)
        .bind(&response)
        .bind(&decision.detail)
        .bind(&after.origin)
        .bind(carried_from)
        .bind(&after.decided_by)
        .bind(after.created_at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let action = if origin == Origin::Confirmed {
            "confirm"
        } else {
            "set"
        };
        let subject = Subject {
            release: &self.release_id,
            component,
            vulnerability,
        };
        history(
            tx,
            actor,
            &self.release.product,
            &subject,
            action,
            Some((decision, origin)),
            now,
        )
        .await?;
        audit::append(
            tx,
            actor,
            &format!("analysis.{action}"),
            &after.id,
            Some(&self.release.organisation),
            before.as_ref().map(|before| json!(before)).as_ref(),
            Some(&json!(after)),
        )
        .await?;
        if let Some(held) = &mut self.held {
            held.insert(
                (component.to_owned(), vulnerability.to_owned()),
                after.clone(),
            );
        }
        Ok(Some(after))
    }
}

async fn history(
    tx: &mut Tx,
    actor: &Actor,
    product: &str,
    subject: &Subject<'_>,
    action: &str,
    decision: Option<(&Decision, Origin)>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO analysis_history (id, product_id, release_id, component, vulnerability, action, \
         state, justification, response, detail, origin, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(new_id("vxh"))
    .bind(product)
    .bind(subject.release)
    .bind(subject.component)
    .bind(subject.vulnerability)
    .bind(action)
    .bind(decision.map(|(decision, _)| decision.state.clone()))
    .bind(decision.and_then(|(decision, _)| decision.justification.clone()))
    .bind(decision.map(|(decision, _)| {
        serde_json::to_string(&decision.response).expect("strings serialize")
    }))
    .bind(decision.map(|(decision, _)| decision.detail.clone()))
    .bind(decision.map(|(_, origin)| origin.as_str()))
    .bind(actor.label())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Refuses an empty or overlong key.
fn check_key(what: &str, key: &str) -> Result<(), StoreError> {
    if key.trim().is_empty() || key.len() > 512 || key.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "the {what} \"{key}\" is empty, longer than 512 bytes or holds control characters"
        )));
    }
    Ok(())
}

/// A release's place among its product's releases: by version (dpkg's ordering, so
/// `1.10` follows `1.9`), then by when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    version: String,
    created_at: i64,
    id: String,
}

impl Place {
    fn of_row(row: &AnyRow) -> Place {
        Place {
            version: row.get("release_version"),
            created_at: row.get("release_created"),
            id: row.get("release_id"),
        }
    }

    pub(crate) fn new(version: &str, created_at: i64, id: &str) -> Place {
        Place {
            version: version.to_owned(),
            created_at,
            id: id.to_owned(),
        }
    }
}

impl Ord for Place {
    fn cmp(&self, other: &Place) -> std::cmp::Ordering {
        provisor_advisories::version::dpkg(&self.version, &other.version)
            .then(self.created_at.cmp(&other.created_at))
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Place {
    fn partial_cmp(&self, other: &Place) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Picks, per (component, vulnerability), the decision that holds for a release from
/// the decisions of its product's releases: its own, else the one of the latest
/// release before it, carried.
fn effective_for(
    release: &Place,
    decisions: Vec<(Place, Analysis)>,
) -> HashMap<(String, String), Effective> {
    let mut decisions: Vec<(Place, Analysis)> = decisions
        .into_iter()
        .filter(|(place, _)| place <= release)
        .collect();
    decisions.sort_by(|a, b| a.0.cmp(&b.0));
    let release = release.id.as_str();
    let mut found: HashMap<(String, String), Effective> = HashMap::new();
    for (_, analysis) in decisions {
        let key = (analysis.component.clone(), analysis.vulnerability.clone());
        let carried = analysis.release_id != release;
        match found.get(&key) {
            Some(held) if !held.carried => {}
            _ => {
                found.insert(key, Effective { analysis, carried });
            }
        }
    }
    found
}

impl Store {
    /// Sets a release's own decision about a vulnerability of a component (its key,
    /// `deb:openssl`); `None` when it already said exactly this.
    pub async fn set_analysis(
        &self,
        actor: &Actor,
        release: &str,
        component: &str,
        vulnerability: &str,
        decision: &Decision,
        origin: Origin,
    ) -> Result<Option<Analysis>, StoreError> {
        let mut tx = self.write().await?;
        let written = Writer::open(&mut tx, release)
            .await?
            .write(
                &mut tx,
                actor,
                (component, vulnerability),
                decision,
                origin,
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Removes a release's own decision (an earlier release's, if any, is then carried
    /// again); `false` when it had none.
    pub async fn remove_analysis(
        &self,
        actor: &Actor,
        release: &str,
        component: &str,
        vulnerability: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let Some(before) = own(&mut tx, release, component, vulnerability).await? else {
            return Ok(false);
        };
        let of = release_of(&mut tx, release).await?;
        crate::monitoring::take_turn(&mut tx).await?;
        sqlx::query("DELETE FROM vulnerability_analyses WHERE id = $1")
            .bind(&before.id)
            .execute(&mut *tx)
            .await?;
        let subject = Subject {
            release,
            component,
            vulnerability,
        };
        history(
            &mut tx,
            actor,
            &of.product,
            &subject,
            "remove",
            None,
            now_ms(),
        )
        .await?;
        audit::append(
            &mut tx,
            actor,
            "analysis.remove",
            &before.id,
            Some(&of.organisation),
            Some(&json!(before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Confirms for a release the decisions carried to it from earlier releases: the
    /// one about `only` (component, vulnerability), or all. Each is copied as the
    /// release's own. Returns the decisions written.
    pub async fn confirm_analyses(
        &self,
        actor: &Actor,
        release: &str,
        only: Option<(&str, &str)>,
    ) -> Result<Vec<Analysis>, StoreError> {
        let mut tx = self.write().await?;
        let of = release_of(&mut tx, release).await?;
        let held = product_decisions_in(&mut tx, &of.product).await?;
        let place = Place::new(&of.version, of.created_at, release);
        let mut carried: Vec<Effective> = effective_for(&place, held)
            .into_values()
            .filter(|effective| effective.carried)
            .filter(|effective| {
                only.is_none_or(|(component, vulnerability)| {
                    effective.analysis.component == component
                        && effective.analysis.vulnerability == vulnerability
                })
            })
            .collect();
        if let Some((component, vulnerability)) = only
            && carried.is_empty()
        {
            return Err(StoreError::NotFound(format!(
                "a decision about {vulnerability} in {component} carried to release {release}"
            )));
        }
        carried.sort_by(|a, b| {
            (&a.analysis.component, &a.analysis.vulnerability)
                .cmp(&(&b.analysis.component, &b.analysis.vulnerability))
        });
        let mut written = Vec::new();
        let mut writer = Writer::open(&mut tx, release).await?;
        for effective in carried {
            if let Some(analysis) = writer
                .write(
                    &mut tx,
                    actor,
                    (
                        &effective.analysis.component,
                        &effective.analysis.vulnerability,
                    ),
                    &effective.analysis.decision,
                    Origin::Confirmed,
                    Some(&effective.analysis.id),
                )
                .await?
            {
                written.push(analysis);
            }
        }
        tx.commit().await?;
        Ok(written)
    }

    /// The decisions that hold for a release, by (component key, vulnerability): its
    /// own, and those carried from earlier releases of its product.
    pub async fn release_analyses(
        &self,
        release: &str,
    ) -> Result<HashMap<(String, String), Effective>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let of = release_of(&mut tx, release).await?;
        let held = product_decisions_in(&mut tx, &of.product).await?;
        tx.rollback().await?;
        Ok(effective_for(
            &Place::new(&of.version, of.created_at, release),
            held,
        ))
    }

    /// Every change of the decisions about a vulnerability of a component, in all
    /// releases of a product, oldest first.
    pub async fn analysis_history(
        &self,
        product: &str,
        component: &str,
        vulnerability: &str,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM analysis_history WHERE product_id = $1 AND component = $2 \
             AND vulnerability = $3 ORDER BY at, id",
        )
        .bind(product)
        .bind(component)
        .bind(vulnerability)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| {
                let state: Option<String> = row.get("state");
                HistoryEntry {
                    release_id: row.get("release_id"),
                    action: row.get("action"),
                    decision: state.map(|state| Decision {
                        state,
                        justification: row.get("justification"),
                        response: row
                            .get::<Option<String>, _>("response")
                            .and_then(|text| serde_json::from_str(&text).ok())
                            .unwrap_or_default(),
                        detail: row.get::<Option<String>, _>("detail").unwrap_or_default(),
                    }),
                    origin: row.get("origin"),
                    actor: row.get("actor"),
                    at: row.get("at"),
                }
            })
            .collect())
    }

    /// The decisions of these products' releases, with their releases' ages: what
    /// [`carried_or_own`] picks from for the portfolio.
    pub(crate) async fn product_decisions(
        &self,
        products: &[String],
    ) -> Result<Vec<(Place, Analysis)>, StoreError> {
        let mut found = Vec::new();
        for chunk in products.chunks(crate::monitoring::BATCH) {
            let list: Vec<String> = (1..=chunk.len()).map(|at| format!("${at}")).collect();
            let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS}, r.created_at AS release_created FROM vulnerability_analyses a \
                 JOIN releases r ON r.id = a.release_id WHERE a.product_id IN ({})",
                list.join(", ")
            )));
            for id in chunk {
                query = query.bind(id.clone());
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|row| (Place::of_row(row), analysis_from_row(row))),
            );
        }
        Ok(found)
    }
}

/// Decisions by (product, component, vulnerability), with their releases' places.
pub(crate) type ByProduct = HashMap<(String, String, String), Vec<(Place, Analysis)>>;

/// What holds for a release, from its product's decisions (see
/// [`Store::product_decisions`]): its own decision about (component, vulnerability), or
/// the one of the latest release before it, carried.
pub(crate) fn carried_or_own<'a>(
    decisions: &'a ByProduct,
    product: &str,
    release: &Place,
    component: &str,
    vulnerability: &str,
) -> Option<(&'a Analysis, bool)> {
    let made = decisions.get(&(
        product.to_owned(),
        component.to_owned(),
        vulnerability.to_owned(),
    ))?;
    if let Some((_, own)) = made
        .iter()
        .find(|(_, analysis)| analysis.release_id == release.id)
    {
        return Some((own, false));
    }
    made.iter()
        .filter(|(place, _)| place < release)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, analysis)| (analysis, true))
}

/// The decisions of a product's releases, with their releases' places.
async fn product_decisions_in(
    tx: &mut Tx,
    product: &str,
) -> Result<Vec<(Place, Analysis)>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, r.created_at AS release_created FROM vulnerability_analyses a \
         JOIN releases r ON r.id = a.release_id WHERE a.product_id = $1"
    )))
    .bind(product)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .iter()
        .map(|row| (Place::of_row(row), analysis_from_row(row)))
        .collect())
}

/// A statement of an uploaded VEX (or a backport its SBOM names) to apply to a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// Where it is in the document (`vulnerabilities[2].affects[0]`).
    pub place: String,
    /// The component's key (`deb:openssl`).
    pub component: String,
    /// The vulnerability.
    pub vulnerability: String,
    /// What it says.
    pub decision: Decision,
    /// [`Origin::Vex`] or [`Origin::Backport`].
    pub origin: Origin,
}

/// What became of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// It is now the release's decision.
    Applied,
    /// The release already decided exactly this.
    Unchanged,
    /// It was not applied, and why.
    Refused(String),
}

impl Store {
    /// Applies an upload to a release in one transaction: its SBOM when the release
    /// has none yet (`true` when written), then each statement, in order. A statement
    /// outside the VEX vocabulary is refused with why; a backport does not replace a
    /// decision a person or a VEX statement made.
    pub async fn apply_vex(
        &self,
        actor: &Actor,
        release: &str,
        sbom: Option<&crate::ReleaseSbom>,
        statements: &[VexStatement],
    ) -> Result<(bool, Vec<Outcome>), StoreError> {
        let mut tx = self.write().await?;
        let mut writer = Writer::open(&mut tx, release)
            .await?
            .holding_all(&mut tx)
            .await?;
        let written = match sbom {
            Some(sbom) => crate::monitoring::write_sbom(&mut tx, sbom).await?,
            None => false,
        };
        let mut outcomes = Vec::with_capacity(statements.len());
        for statement in statements {
            if let Err(reason) = statement.decision.check() {
                outcomes.push(Outcome::Refused(reason));
                continue;
            }
            if statement.origin == Origin::Backport
                && let Some(held) = writer
                    .held(&mut tx, &statement.component, &statement.vulnerability)
                    .await?
                && held.origin != Origin::Backport.as_str()
            {
                outcomes.push(Outcome::Refused(format!(
                    "the release already has a decision of its own ({}, by {}); a backport does \
                     not replace it",
                    held.decision.state, held.decided_by
                )));
                continue;
            }
            let outcome = match writer
                .write(
                    &mut tx,
                    actor,
                    (&statement.component, &statement.vulnerability),
                    &statement.decision,
                    statement.origin,
                    None,
                )
                .await
            {
                Ok(Some(_)) => Outcome::Applied,
                Ok(None) => Outcome::Unchanged,
                Err(StoreError::Invalid(reason)) => Outcome::Refused(reason),
                Err(other) => return Err(other),
            };
            outcomes.push(outcome);
        }
        tx.commit().await?;
        Ok((written, outcomes))
    }
}
