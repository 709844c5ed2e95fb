//! Continuous monitoring (5.2-3): every release's SBOM, written once with its firmware
//! scan's result, and the advisories matched against it as they arrive.
//!
//! Components are stored once per identity (name, version, package URL, CPE, source
//! package), indexed by the keys advisories name them by ([`provisor_advisories::Component::keys`]).
//! An import hands advisories over in batches ([`Store::apply_advisories`]): an
//! advisory whose document is unchanged costs one digest comparison; a changed one is
//! matched again against the components its keys select (each identity evaluated once,
//! however many releases hold it), its new matches opened and the matches it no longer
//! makes retracted (a withdrawn advisory retracts all of its). A new component is
//! matched against the advisories its keys select ([`Store::match_new_components`]).
//! Both take their turn on one row (`monitor_state`), so a component stored while an
//! advisory is imported is matched by one or the other.

use std::collections::{HashMap, HashSet};

use provisor_advisories::{Advisory, Component};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError, now_ms, sha256_hex};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// How many advisories or components one transaction handles.
pub const BATCH: usize = 500;

/// A component of a release's SBOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SbomComponent {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Its CPE 2.3 name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    /// The source package it was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_package: Option<String>,
}

impl SbomComponent {
    fn asked(&self) -> Component<'_> {
        Component {
            name: &self.name,
            version: &self.version,
            purl: self.purl.as_deref(),
            cpe: self.cpe.as_deref(),
            source: self.source_package.as_deref(),
        }
    }

    /// Its identity: the same component in two releases is one row (and one `bom-ref`
    /// in a VEX export).
    pub fn id(&self) -> String {
        let text = [
            self.name.as_str(),
            &self.version,
            self.purl.as_deref().unwrap_or(""),
            self.cpe.as_deref().unwrap_or(""),
            self.source_package.as_deref().unwrap_or(""),
        ]
        .join("\0");
        format!("cmp_{}", &sha256_hex(text.as_bytes())[..32])
    }

    /// Its key, which decisions are made for: its package type and name as advisories
    /// look it up (`deb:openssl` for the binary package libssl3).
    pub fn key(&self) -> String {
        let (kind, name) = self.asked().keys().swap_remove(0);
        format!("{kind}:{name}")
    }

    fn from_row(row: &AnyRow) -> SbomComponent {
        SbomComponent {
            name: row.get("name"),
            version: row.get("version"),
            purl: row.get("purl"),
            cpe: row.get("cpe"),
            source_package: row.get("source_package"),
        }
    }
}

/// How severe an advisory says a vulnerability is: 4 critical, 3 high, 2 medium, 1 low,
/// 0 of no known severity.
pub fn severity_rank(severity: Option<&str>) -> u8 {
    match severity {
        Some("critical") => 4,
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

/// [`severity_rank`] of `component_vulnerabilities.severity`, in SQL.
const SEVERITY_RANK_SQL: &str = "CASE cv.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 \
     WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END";

/// A component's key, which decisions are made for: `package_type:package_name`.
fn component_key(row: &AnyRow) -> String {
    format!(
        "{}:{}",
        row.get::<String, _>("package_type"),
        row.get::<String, _>("package_name")
    )
}

/// A release's SBOM as a firmware scan found it.
#[derive(Debug, Clone)]
pub struct ReleaseSbom {
    /// The release.
    pub release_id: String,
    /// The job whose scan found it.
    pub job_id: String,
    /// The image scanned.
    pub firmware_sha256: Option<String>,
    /// Its components (those with a version: without one nothing can be matched).
    pub components: Vec<SbomComponent>,
}

/// Where a release's SBOM came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SbomRecord {
    /// The release.
    pub release_id: String,
    /// The job whose scan found it.
    pub job_id: String,
    /// The image scanned.
    pub firmware_sha256: Option<String>,
    /// When it was stored.
    pub created_at: i64,
    /// Its components, by name and version.
    pub components: Vec<SbomComponent>,
}

/// What a batch of advisories or of components changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MatchSummary {
    /// Advisories read.
    pub read: u64,
    /// Advisories new or changed (matched again).
    pub changed: u64,
    /// Matches opened.
    pub new_matches: u64,
    /// Matches retracted.
    pub retracted: u64,
}

impl MatchSummary {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: MatchSummary) {
        self.read += other.read;
        self.changed += other.changed;
        self.new_matches += other.new_matches;
        self.retracted += other.retracted;
    }
}

/// A vulnerability of a release: a component it holds matched by an advisory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseVulnerability {
    /// The vulnerability (its CVE id when it has one).
    pub vulnerability: String,
    /// The advisory's source (`osv`, `debian`, `nvd`).
    pub source: String,
    /// The advisory.
    pub advisory: String,
    /// Its one-line summary.
    pub summary: String,
    /// `critical`, `high`, `medium`, `low`, or none when unknown.
    pub severity: Option<String>,
    /// The component.
    pub component: String,
    /// Its version.
    pub version: String,
    /// Its package URL.
    pub purl: Option<String>,
    /// The version that fixes it, when the advisory gives one.
    pub fixed: Option<String>,
    /// `open`, `backported` (the Debian revision carries the fix: `reason` says which)
    /// or `retracted`.
    pub state: String,
    /// When it was found (the later of the match and the release's SBOM).
    pub found_at: i64,
    /// When it was retracted.
    pub retracted_at: Option<i64>,
    /// Why it was retracted, or which backport settles it.
    pub reason: Option<String>,
    /// Whether CISA lists it as exploited, and since when.
    pub known_exploited: Option<String>,
    /// The component's key, which decisions are made for: its package type and name
    /// (`deb:openssl`).
    pub component_key: String,
    /// The decision that holds for it in this release, its own or carried.
    pub analysis: Option<crate::Effective>,
    /// The component's identity ([`SbomComponent::id`]).
    pub component_ref: String,
}

/// A known exploited vulnerability, as CISA's catalogue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownExploited {
    /// The CVE id.
    pub vulnerability: String,
    /// When it was added to the catalogue.
    pub date_added: String,
    /// Its name there.
    pub name: String,
    /// The date by which agencies must act.
    pub due_date: String,
    /// Whether ransomware campaigns are known to use it.
    pub ransomware: bool,
}

/// Stores a release's SBOM in the transaction that stores its scan: the first scan of
/// a release writes it, later ones leave it (an SBOM is never changed). `true` when it
/// was written.
pub(crate) async fn write_sbom(tx: &mut Tx, sbom: &ReleaseSbom) -> Result<bool, StoreError> {
    let now = now_ms();
    let written = sqlx::query(
        "INSERT INTO release_sboms (release_id, job_id, firmware_sha256, components, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (release_id) DO NOTHING",
    )
    .bind(&sbom.release_id)
    .bind(&sbom.job_id)
    .bind(&sbom.firmware_sha256)
    .bind(sbom.components.len() as i64)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if written.rows_affected() == 0 {
        return Ok(false);
    }
    // One row per identity, and many rows per statement: an SBOM of hundreds of
    // components is a few statements.
    let mut seen = HashSet::new();
    let unique: Vec<&SbomComponent> = sbom
        .components
        .iter()
        .filter(|component| seen.insert(component.id()))
        .collect();
    for chunk in unique.chunks(50) {
        let mut components = String::from(
            "INSERT INTO components (id, name, version, purl, cpe, source_package, package_type, \
             package_name, cpe_product) VALUES ",
        );
        let mut holdings =
            String::from("INSERT INTO release_components (release_id, component_id) VALUES ");
        for at in 0..chunk.len() {
            let first = at * 9;
            let separator = if at == 0 { "" } else { ", " };
            components.push_str(&format!(
                "{separator}(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                first + 1,
                first + 2,
                first + 3,
                first + 4,
                first + 5,
                first + 6,
                first + 7,
                first + 8,
                first + 9
            ));
            holdings.push_str(&format!("{separator}($1, ${})", at + 2));
        }
        components.push_str(" ON CONFLICT (id) DO NOTHING");
        holdings.push_str(" ON CONFLICT (release_id, component_id) DO NOTHING");
        let ids: Vec<String> = chunk.iter().map(|component| component.id()).collect();
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(components));
        for (component, id) in chunk.iter().zip(&ids) {
            let keys = component.asked().keys();
            let (package_type, package_name) = keys[0].clone();
            let cpe_product = keys
                .iter()
                .find(|(kind, _)| kind == "cpe")
                .map(|(_, name)| name.clone());
            insert = insert
                .bind(id.clone())
                .bind(component.name.clone())
                .bind(component.version.clone())
                .bind(component.purl.clone())
                .bind(component.cpe.clone())
                .bind(component.source_package.clone())
                .bind(package_type)
                .bind(package_name)
                .bind(cpe_product);
        }
        insert.execute(&mut **tx).await?;
        let mut hold = sqlx::query(sqlx::AssertSqlSafe(holdings)).bind(&sbom.release_id);
        for id in &ids {
            hold = hold.bind(id.clone());
        }
        hold.execute(&mut **tx).await?;
    }
    Ok(true)
}

/// Takes the monitor's turn: matches and imports change one after another.
pub(crate) async fn take_turn(tx: &mut Tx) -> Result<(), StoreError> {
    sqlx::query("UPDATE monitor_state SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The components an advisory's keys select: (id, component).
async fn candidates(
    tx: &mut Tx,
    keys: &[(String, String)],
) -> Result<Vec<(String, SbomComponent)>, StoreError> {
    let mut found = Vec::new();
    for (kind, name) in keys {
        let rows = if kind == "cpe" {
            sqlx::query(
                "SELECT id, name, version, purl, cpe, source_package FROM components \
                 WHERE cpe_product = $1",
            )
            .bind(name)
            .fetch_all(&mut **tx)
            .await?
        } else {
            sqlx::query(
                "SELECT id, name, version, purl, cpe, source_package FROM components \
                 WHERE package_type = $1 AND package_name = $2",
            )
            .bind(kind)
            .bind(name)
            .fetch_all(&mut **tx)
            .await?
        };
        found.extend(
            rows.iter()
                .map(|row| (row.get::<String, _>("id"), SbomComponent::from_row(row))),
        );
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|a, b| a.0 == b.0);
    Ok(found)
}

/// Opens a match (or opens it again); `true` when it was not open. A match a Debian
/// backport settles (`backport`: why) is stored `backported` instead, and is not new.
async fn open_match(
    tx: &mut Tx,
    component: &str,
    source: &str,
    advisory: &Advisory,
    fixed: Option<&str>,
    now: i64,
    backport: Option<&str>,
) -> Result<bool, StoreError> {
    let state = if backport.is_some() {
        "backported"
    } else {
        "open"
    };
    let changed = sqlx::query(
        "INSERT INTO component_vulnerabilities (component_id, source, advisory_id, vulnerability, \
         severity, fixed, state, found_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $9) \
         ON CONFLICT (component_id, source, advisory_id) DO UPDATE SET state = $8, \
         found_at = $7, retracted_at = NULL, reason = $9, vulnerability = $4, severity = $5, \
         fixed = $6 WHERE component_vulnerabilities.state <> $8",
    )
    .bind(component)
    .bind(source)
    .bind(&advisory.id)
    .bind(advisory.vulnerability())
    .bind(&advisory.severity)
    .bind(fixed)
    .bind(now)
    .bind(state)
    .bind(backport)
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() == 1 && backport.is_none())
}

/// Debian's advisories of vulnerabilities, read once per transaction.
#[derive(Default)]
struct Distribution {
    read: HashMap<String, Vec<Advisory>>,
}

impl Distribution {
    /// Why an upstream advisory's match on a Debian package is settled by a backport:
    /// a Debian advisory of the same vulnerability says the package's version is fixed
    /// (by dpkg's ordering, revisions counted). `None` for any other match.
    async fn backport(
        &mut self,
        tx: &mut Tx,
        advisory: &Advisory,
        component: &SbomComponent,
    ) -> Result<Option<String>, StoreError> {
        let asked = component.asked();
        if advisory.is_debian() || asked.keys()[0].0 != "deb" {
            return Ok(None);
        }
        let vulnerability = advisory.vulnerability().to_owned();
        if !self.read.contains_key(&vulnerability) {
            let documents: Vec<String> = sqlx::query(
                "SELECT document FROM advisories WHERE vulnerability = $1 AND withdrawn = 0",
            )
            .bind(&vulnerability)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
            let debian = documents
                .iter()
                .filter_map(|text| serde_json::from_str::<Advisory>(text).ok())
                .filter(Advisory::is_debian)
                .collect();
            self.read.insert(vulnerability.clone(), debian);
        }
        Ok(self.read[&vulnerability].iter().find_map(|debian| {
            debian
                .fixed_in_distribution(asked)
                .map(|fixed| backport_reason(&fixed, debian, component))
        }))
    }
}

/// Why a match is settled by the fix a Debian advisory says the component's version
/// carries.
fn backport_reason(fixed: &str, debian: &Advisory, component: &SbomComponent) -> String {
    format!(
        "Debian fixed it in {fixed} ({}): version {} carries the fix",
        debian.id, component.version
    )
}

/// A Debian advisory changed: the upstream matches of its vulnerability on the
/// components it names are settled where it says their version is fixed, and opened
/// again where it no longer does.
async fn settle_upstream_matches(
    tx: &mut Tx,
    advisory: &Advisory,
    candidates: &[(String, SbomComponent)],
) -> Result<(), StoreError> {
    for (id, component) in candidates {
        match advisory.fixed_in_distribution(component.asked()) {
            Some(fixed) => {
                let reason = backport_reason(&fixed, advisory, component);
                sqlx::query(
                    "UPDATE component_vulnerabilities SET state = 'backported', reason = $1 \
                     WHERE component_id = $2 AND vulnerability = $3 AND state = 'open' \
                     AND NOT (source = $4 AND advisory_id = $5)",
                )
                .bind(&reason)
                .bind(id)
                .bind(advisory.vulnerability())
                .bind("debian")
                .bind(&advisory.id)
                .execute(&mut **tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "UPDATE component_vulnerabilities SET state = 'open', reason = NULL \
                     WHERE component_id = $1 AND vulnerability = $2 AND state = 'backported'",
                )
                .bind(id)
                .bind(advisory.vulnerability())
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}

/// What a vulnerability event is about.
struct Subject<'a> {
    vulnerability: &'a str,
    source: &'a str,
    advisory: &'a str,
    summary: &'a str,
    severity: Option<&'a str>,
}

impl<'a> Subject<'a> {
    fn of(source: &'a str, advisory: &'a Advisory) -> Subject<'a> {
        Subject {
            vulnerability: advisory.vulnerability(),
            source,
            advisory: &advisory.id,
            summary: &advisory.summary,
            severity: advisory.severity.as_deref(),
        }
    }
}

/// The most releases one event lists (it says how many there are in all).
const EVENT_RELEASES: usize = 1_000;

/// Writes one event per organisation whose releases hold `components`, within `tx`
/// (the outbox: the event commits with the change it reports). The database counts the
/// releases of each organisation; only the first [`EVENT_RELEASES`] are read and listed.
async fn report(
    tx: &mut Tx,
    kind: &str,
    subject: &Subject<'_>,
    components: &[String],
) -> Result<(), StoreError> {
    use std::collections::{BTreeMap, BTreeSet};
    // A release whose own decision already settles the vulnerability (a VEX uploaded
    // before the advisory arrived) is not told it was found.
    let unsettled = if kind == "vulnerability.retracted" {
        String::new()
    } else {
        format!(
            " AND (va.state IS NULL OR va.state NOT IN ({}))",
            crate::analyses::settling_sql()
        )
    };
    let mut counted: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    let mut listed: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for chunk in components.chunks(BATCH) {
        let list: Vec<String> = (2..=chunk.len() + 1).map(|at| format!("${at}")).collect();
        let from = format!(
            "FROM release_components rc JOIN releases r ON r.id = rc.release_id \
             JOIN products p ON p.id = r.product_id JOIN components c ON c.id = rc.component_id \
             LEFT JOIN vulnerability_analyses va ON va.release_id = r.id \
             AND va.component = c.package_type || ':' || c.package_name AND va.vulnerability = $1 \
             WHERE rc.component_id IN ({}){unsettled}",
            list.join(", ")
        );
        let bound = |sql: String| {
            let mut query =
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(subject.vulnerability.to_owned());
            for id in chunk {
                query = query.bind(id.clone());
            }
            query
        };
        let per_product = bound(format!(
            "SELECT p.organisation_id, p.id, COUNT(*) {from} GROUP BY p.organisation_id, p.id"
        ))
        .fetch_all(&mut **tx)
        .await?;
        for row in per_product {
            let (count, products) = counted.entry(row.get(0)).or_default();
            *count += usize::try_from(row.get::<i64, _>(2)).unwrap_or(0);
            products.insert(row.get(1));
        }
        let first = bound(format!(
            "SELECT * FROM (SELECT p.organisation_id, p.id AS product_id, p.name AS product, \
             r.id AS release_id, r.version, r.support_period_end, c.name AS component, \
             c.version AS component_version, ROW_NUMBER() OVER (PARTITION BY p.organisation_id \
             ORDER BY p.name, r.version, r.id, c.name, c.version) AS place {from}) listed \
             WHERE place <= {EVENT_RELEASES} ORDER BY organisation_id, place"
        ))
        .fetch_all(&mut **tx)
        .await?;
        for row in first {
            listed
                .entry(row.get("organisation_id"))
                .or_default()
                .push(serde_json::json!({
                    "product": row.get::<String, _>("product_id"),
                    "product_name": row.get::<String, _>("product"),
                    "release": row.get::<String, _>("release_id"),
                    "version": row.get::<String, _>("version"),
                    "support_period_end": row.get::<Option<String>, _>("support_period_end"),
                    "component": row.get::<String, _>("component"),
                    "component_version": row.get::<String, _>("component_version"),
                }));
        }
    }
    for (organisation, (count, products)) in counted {
        let mut releases = listed.remove(&organisation).unwrap_or_default();
        releases.truncate(EVENT_RELEASES);
        let products: Vec<String> = products.into_iter().collect();
        let payload = serde_json::json!({
            "vulnerability": subject.vulnerability,
            "source": subject.source,
            "advisory": subject.advisory,
            "summary": subject.summary,
            "severity": subject.severity,
            "release_count": count,
            "releases": releases,
        });
        crate::notifications::emit(
            tx,
            &organisation,
            kind,
            subject.severity,
            &products,
            &payload,
            None,
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// Stores a release's SBOM that no scan of this server found (one made elsewhere,
    /// a bulk load): as a scan's, written once and never changed; `true` when written.
    /// Its components are matched at the monitor's next round
    /// ([`Store::match_new_components`]).
    pub async fn record_sbom(&self, sbom: &ReleaseSbom) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let written = write_sbom(&mut tx, sbom).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Stores advisories of one source (`osv`, `debian`, `nvd`) as one batch, in one
    /// transaction: the new and changed ones are matched again, their new matches
    /// opened and the matches they no longer make retracted.
    pub async fn apply_advisories(
        &self,
        source: &str,
        advisories: &[Advisory],
    ) -> Result<MatchSummary, StoreError> {
        let mut summary = MatchSummary {
            read: advisories.len() as u64,
            ..MatchSummary::default()
        };
        let mut tx = self.write().await?;
        take_turn(&mut tx).await?;
        let now = now_ms();
        for advisory in advisories {
            let document =
                serde_json::to_string(advisory).expect("an advisory serializes (plain data)");
            let digest = sha256_hex(document.as_bytes());
            let stored: Option<String> =
                sqlx::query("SELECT digest FROM advisories WHERE source = $1 AND id = $2")
                    .bind(source)
                    .bind(&advisory.id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| row.get(0));
            if stored.as_deref() == Some(digest.as_str()) {
                continue;
            }
            summary.changed += 1;
            sqlx::query(
                "INSERT INTO advisories (source, id, vulnerability, summary, severity, modified, \
                 withdrawn, digest, document, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (source, id) DO UPDATE SET vulnerability = $3, summary = $4, severity = $5, \
                 modified = $6, withdrawn = $7, digest = $8, document = $9, imported_at = $10",
            )
            .bind(source)
            .bind(&advisory.id)
            .bind(advisory.vulnerability())
            .bind(&advisory.summary)
            .bind(&advisory.severity)
            .bind(&advisory.modified)
            .bind(i64::from(advisory.withdrawn.is_some()))
            .bind(&digest)
            .bind(&document)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM advisory_keys WHERE source = $1 AND advisory_id = $2")
                .bind(source)
                .bind(&advisory.id)
                .execute(&mut *tx)
                .await?;
            let keys = advisory.keys();
            for (kind, name) in &keys {
                sqlx::query(
                    "INSERT INTO advisory_keys (kind, name, source, advisory_id) VALUES ($1, $2, $3, $4)",
                )
                .bind(kind)
                .bind(name)
                .bind(source)
                .bind(&advisory.id)
                .execute(&mut *tx)
                .await?;
            }
            let rematched = self.rematch(&mut tx, source, advisory, &keys, now).await?;
            summary.new_matches += rematched.new_matches;
            summary.retracted += rematched.retracted;
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Matches one advisory against the components its keys select, within `tx`.
    async fn rematch(
        &self,
        tx: &mut Tx,
        source: &str,
        advisory: &Advisory,
        keys: &[(String, String)],
        now: i64,
    ) -> Result<MatchSummary, StoreError> {
        let mut summary = MatchSummary::default();
        let mut matched: HashSet<String> = HashSet::new();
        let mut opened: Vec<String> = Vec::new();
        let selected = candidates(tx, keys).await?;
        if advisory.withdrawn.is_none() {
            let mut distribution = Distribution::default();
            for (id, component) in &selected {
                if let Some(found) = advisory.affects(component.asked()) {
                    let backport = distribution.backport(tx, advisory, component).await?;
                    let fixed = found.fixed.as_deref();
                    if open_match(tx, id, source, advisory, fixed, now, backport.as_deref()).await?
                    {
                        summary.new_matches += 1;
                        opened.push(id.clone());
                    }
                    matched.insert(id.clone());
                }
            }
        }
        if advisory.is_debian() {
            settle_upstream_matches(tx, advisory, &selected).await?;
        }
        let open: Vec<String> = sqlx::query(
            "SELECT component_id FROM component_vulnerabilities WHERE source = $1 AND advisory_id = $2 \
             AND state IN ('open', 'backported')",
        )
        .bind(source)
        .bind(&advisory.id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
        let reason = if advisory.withdrawn.is_some() {
            "the advisory was withdrawn"
        } else {
            "the advisory no longer covers this version"
        };
        let retracted: Vec<String> = open
            .iter()
            .filter(|id| !matched.contains(*id))
            .cloned()
            .collect();
        for component in &retracted {
            sqlx::query(
                "UPDATE component_vulnerabilities SET state = 'retracted', retracted_at = $1, reason = $2 \
                 WHERE component_id = $3 AND source = $4 AND advisory_id = $5",
            )
            .bind(now)
            .bind(reason)
            .bind(component)
            .bind(source)
            .bind(&advisory.id)
            .execute(&mut **tx)
            .await?;
            summary.retracted += 1;
        }
        let subject = Subject::of(source, advisory);
        report(tx, "vulnerability.found", &subject, &opened).await?;
        report(tx, "vulnerability.retracted", &subject, &retracted).await?;
        // Matches that stay open take the advisory's current severity and fix.
        if !matched.is_empty() {
            sqlx::query(
                "UPDATE component_vulnerabilities SET severity = $1, vulnerability = $2 \
                 WHERE source = $3 AND advisory_id = $4 AND state = 'open'",
            )
            .bind(&advisory.severity)
            .bind(advisory.vulnerability())
            .bind(source)
            .bind(&advisory.id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(summary)
    }

    /// Withdraws the advisories of a source an import of its whole data no longer
    /// lists (the Debian tracker is such a snapshot): each is stored withdrawn and its
    /// matches retracted.
    pub async fn withdraw_unlisted(
        &self,
        source: &str,
        listed: &HashSet<String>,
    ) -> Result<MatchSummary, StoreError> {
        let stored: Vec<String> =
            sqlx::query("SELECT id FROM advisories WHERE source = $1 AND withdrawn = 0")
                .bind(source)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|row| row.get(0))
                .collect();
        let gone: Vec<String> = stored
            .into_iter()
            .filter(|id| !listed.contains(id))
            .collect();
        let mut summary = MatchSummary::default();
        for chunk in gone.chunks(BATCH) {
            let mut advisories = Vec::new();
            for id in chunk {
                if let Some(mut advisory) = self.advisory(source, id).await? {
                    advisory.withdrawn = Some(format!("no longer listed ({})", now_ms()));
                    advisories.push(advisory);
                }
            }
            let mut applied = self.apply_advisories(source, &advisories).await?;
            applied.read = 0;
            summary.add(applied);
        }
        Ok(summary)
    }

    /// A stored advisory.
    pub async fn advisory(&self, source: &str, id: &str) -> Result<Option<Advisory>, StoreError> {
        let row = sqlx::query("SELECT document FROM advisories WHERE source = $1 AND id = $2")
            .bind(source)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            serde_json::from_str(&row.get::<String, _>(0)).map_err(|error| {
                StoreError::Invalid(format!(
                    "the stored advisory {source}/{id} does not read ({error}): import it again"
                ))
            })
        })
        .transpose()
    }

    /// Matches the components not matched yet (those of SBOMs stored since the last
    /// call) against the advisories their keys select, a batch per transaction.
    pub async fn match_new_components(&self) -> Result<MatchSummary, StoreError> {
        let mut summary = MatchSummary::default();
        loop {
            let mut tx = self.write().await?;
            take_turn(&mut tx).await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, name, version, purl, cpe, source_package FROM components \
                 WHERE matched_at IS NULL ORDER BY id LIMIT {BATCH}"
            )))
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                tx.rollback().await?;
                return Ok(summary);
            }
            let now = now_ms();
            let mut documents: HashMap<(String, String), Option<Advisory>> = HashMap::new();
            let mut distribution = Distribution::default();
            let mut opened: HashMap<(String, String), Vec<String>> = HashMap::new();
            for row in &rows {
                let id: String = row.get("id");
                let component = SbomComponent::from_row(row);
                let mut named: Vec<(String, String)> = Vec::new();
                for (kind, name) in component.asked().keys() {
                    let found = sqlx::query(
                        "SELECT source, advisory_id FROM advisory_keys WHERE kind = $1 AND name = $2",
                    )
                    .bind(&kind)
                    .bind(&name)
                    .fetch_all(&mut *tx)
                    .await?;
                    named.extend(found.iter().map(|row| (row.get(0), row.get(1))));
                }
                named.sort();
                named.dedup();
                for key in named {
                    if !documents.contains_key(&key) {
                        let document: Option<String> = sqlx::query(
                            "SELECT document FROM advisories WHERE source = $1 AND id = $2",
                        )
                        .bind(&key.0)
                        .bind(&key.1)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|row| row.get(0));
                        let parsed = document.and_then(|text| serde_json::from_str(&text).ok());
                        documents.insert(key.clone(), parsed);
                    }
                    let Some(Some(advisory)) = documents.get(&key) else {
                        continue;
                    };
                    let Some(found) = advisory.affects(component.asked()) else {
                        continue;
                    };
                    let backport = distribution.backport(&mut tx, advisory, &component).await?;
                    let fixed = found.fixed.as_deref();
                    if open_match(
                        &mut tx,
                        &id,
                        &key.0,
                        advisory,
                        fixed,
                        now,
                        backport.as_deref(),
                    )
                    .await?
                    {
                        summary.new_matches += 1;
                        opened.entry(key.clone()).or_default().push(id.clone());
                    }
                }
                sqlx::query("UPDATE components SET matched_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut reported: Vec<_> = opened.into_iter().collect();
            reported.sort();
            for (key, components) in reported {
                if let Some(Some(advisory)) = documents.get(&key) {
                    let subject = Subject::of(&key.0, advisory);
                    report(&mut tx, "vulnerability.found", &subject, &components).await?;
                }
            }
            tx.commit().await?;
        }
    }

    /// A release's SBOM, if its firmware has been scanned.
    pub async fn release_sbom(&self, release: &str) -> Result<Option<SbomRecord>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT release_id, job_id, firmware_sha256, created_at FROM release_sboms WHERE release_id = $1",
        )
        .bind(release)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let components = sqlx::query(
            "SELECT c.name, c.version, c.purl, c.cpe, c.source_package FROM release_components rc \
             JOIN components c ON c.id = rc.component_id WHERE rc.release_id = $1 \
             ORDER BY c.name, c.version, c.id",
        )
        .bind(release)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(SbomComponent::from_row)
        .collect();
        Ok(Some(SbomRecord {
            release_id: row.get("release_id"),
            job_id: row.get("job_id"),
            firmware_sha256: row.get("firmware_sha256"),
            created_at: row.get("created_at"),
            components,
        }))
    }

    /// A release's vulnerabilities: open ones first, the most severe first.
    pub async fn release_vulnerabilities(
        &self,
        release: &str,
    ) -> Result<Vec<ReleaseVulnerability>, StoreError> {
        let rows = sqlx::query(
            "SELECT cv.vulnerability, cv.source, cv.advisory_id, a.summary, cv.severity, c.id, c.name, \
             c.version, c.purl, c.package_type, c.package_name, cv.fixed, cv.state, cv.found_at, \
             s.created_at AS sbom_at, cv.retracted_at, cv.reason, k.date_added \
             FROM release_components rc JOIN release_sboms s ON s.release_id = rc.release_id \
             JOIN components c ON c.id = rc.component_id \
             JOIN component_vulnerabilities cv ON cv.component_id = c.id \
             LEFT JOIN advisories a ON a.source = cv.source AND a.id = cv.advisory_id \
             LEFT JOIN known_exploited k ON k.vulnerability = cv.vulnerability \
             WHERE rc.release_id = $1",
        )
        .bind(release)
        .fetch_all(&self.pool)
        .await?;
        let decisions = self.release_analyses(release).await?;
        let mut found: Vec<ReleaseVulnerability> = rows
            .iter()
            .map(|row| {
                let component_key = component_key(row);
                let vulnerability: String = row.get("vulnerability");
                let analysis = decisions
                    .get(&(component_key.clone(), vulnerability.clone()))
                    .cloned();
                ReleaseVulnerability {
                    vulnerability,
                    source: row.get("source"),
                    advisory: row.get("advisory_id"),
                    summary: row.get::<Option<String>, _>("summary").unwrap_or_default(),
                    severity: row.get("severity"),
                    component: row.get("name"),
                    version: row.get("version"),
                    purl: row.get("purl"),
                    fixed: row.get("fixed"),
                    state: row.get("state"),
                    found_at: row
                        .get::<i64, _>("found_at")
                        .max(row.get::<i64, _>("sbom_at")),
                    retracted_at: row.get("retracted_at"),
                    reason: row.get("reason"),
                    known_exploited: row.get("date_added"),
                    component_key,
                    analysis,
                    component_ref: row.get("id"),
                }
            })
            .collect();
        let rank =
            |severity: &Option<String>| std::cmp::Reverse(severity_rank(severity.as_deref()));
        // Open and unsettled first, then open and settled by a decision, then retracted.
        let standing = |found: &ReleaseVulnerability| match found.state.as_str() {
            "open"
                if found
                    .analysis
                    .as_ref()
                    .is_some_and(crate::Effective::settles) =>
            {
                1
            }
            "open" => 0,
            _ => 2,
        };
        found.sort_by(|a, b| {
            standing(a)
                .cmp(&standing(b))
                .then(rank(&a.severity).cmp(&rank(&b.severity)))
                .then(a.vulnerability.cmp(&b.vulnerability))
                .then(a.component.cmp(&b.component))
                .then(a.source.cmp(&b.source))
        });
        Ok(found)
    }

    /// Replaces CISA's catalogue; returns the vulnerabilities it adds (for notices).
    pub async fn set_known_exploited(
        &self,
        entries: &[KnownExploited],
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.write().await?;
        take_turn(&mut tx).await?;
        let known: HashSet<String> = sqlx::query("SELECT vulnerability FROM known_exploited")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let now = now_ms();
        let mut added = Vec::new();
        for entry in entries {
            if !known.contains(&entry.vulnerability) {
                added.push(entry.vulnerability.clone());
            }
            sqlx::query(
                "INSERT INTO known_exploited (vulnerability, date_added, name, due_date, ransomware, \
                 imported_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vulnerability) DO UPDATE \
                 SET date_added = $2, name = $3, due_date = $4, ransomware = $5",
            )
            .bind(&entry.vulnerability)
            .bind(&entry.date_added)
            .bind(&entry.name)
            .bind(&entry.due_date)
            .bind(i64::from(entry.ransomware))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        added.sort();
        // A newly exploited vulnerability that affects releases is reported to their
        // organisations.
        for vulnerability in &added {
            let open = sqlx::query(
                "SELECT cv.component_id, cv.source, cv.advisory_id, cv.severity, a.summary \
                 FROM component_vulnerabilities cv LEFT JOIN advisories a \
                 ON a.source = cv.source AND a.id = cv.advisory_id \
                 WHERE cv.vulnerability = $1 AND cv.state = 'open' ORDER BY cv.component_id",
            )
            .bind(vulnerability)
            .fetch_all(&mut *tx)
            .await?;
            let Some(first) = open.first() else {
                continue;
            };
            let (source, advisory, severity, summary): (
                String,
                String,
                Option<String>,
                Option<String>,
            ) = (
                first.get("source"),
                first.get("advisory_id"),
                first.get("severity"),
                first.get("summary"),
            );
            let mut components: Vec<String> = open
                .iter()
                .map(|row| row.get::<String, _>("component_id"))
                .collect();
            components.dedup();
            let subject = Subject {
                vulnerability,
                source: &source,
                advisory: &advisory,
                summary: summary.as_deref().unwrap_or(""),
                severity: severity.as_deref(),
            };
            report(&mut tx, "vulnerability.exploited", &subject, &components).await?;
        }
        tx.commit().await?;
        Ok(added)
    }
}

/// A feed the server imports on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvisorySource {
    /// Its name (`debian`, `osv-alpine`).
    pub name: String,
    /// `osv`, `debian`, `nvd` or `kev`.
    pub kind: String,
    /// A path under the server's feed directory, or an allow-listed URL.
    pub location: String,
    /// How often it is imported.
    pub every_ms: i64,
    /// When it is next due.
    pub next_run_at: i64,
    /// Where an incremental import goes on from (OSV: the newest change imported).
    pub cursor: Option<String>,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// One import of a feed, as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvisoryImport {
    /// Its id.
    pub id: String,
    /// The source's name.
    pub source: String,
    /// The feed's kind.
    pub kind: String,
    /// What was read.
    pub location: String,
    /// When it began.
    pub started_at: i64,
    /// When it ended, if it has.
    pub finished_at: Option<i64>,
    /// What it did.
    pub summary: MatchSummary,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

fn source_from_row(row: &AnyRow) -> AdvisorySource {
    AdvisorySource {
        name: row.get("name"),
        kind: row.get("kind"),
        location: row.get("location"),
        every_ms: row.get("every_ms"),
        next_run_at: row.get("next_run_at"),
        cursor: row.get("cursor"),
        created_by: row.get("created_by"),
        created_at: row.get("created_at"),
    }
}

fn import_from_row(row: &AnyRow) -> AdvisoryImport {
    let count = |column: &str| row.get::<i64, _>(column).max(0) as u64;
    AdvisoryImport {
        id: row.get("id"),
        source: row.get("source_name"),
        kind: row.get("kind"),
        location: row.get("location"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
        summary: MatchSummary {
            read: count("read_count"),
            changed: count("changed"),
            new_matches: count("new_matches"),
            retracted: count("retracted"),
        },
        error: row.get("error"),
    }
}

impl Store {
    /// Adds a feed to import every `every_ms`, due at once.
    pub async fn add_advisory_source(
        &self,
        actor: &crate::Actor,
        name: &str,
        kind: &str,
        location: &str,
        every_ms: i64,
    ) -> Result<AdvisorySource, StoreError> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO advisory_sources (name, kind, location, every_ms, next_run_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(kind)
        .bind(location)
        .bind(every_ms)
        .bind(now)
        .bind(actor.label())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "an advisory source named {name} exists: remove it first or choose another name"
            )));
        }
        crate::audit::append(
            &mut tx,
            actor,
            "advisory-source.add",
            name,
            None,
            None,
            Some(&serde_json::json!({"kind": kind, "location": location, "every_ms": every_ms})),
        )
        .await?;
        tx.commit().await?;
        self.advisory_source(name).await
    }

    /// A feed the server imports.
    pub async fn advisory_source(&self, name: &str) -> Result<AdvisorySource, StoreError> {
        sqlx::query("SELECT * FROM advisory_sources WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| source_from_row(&row))
            .ok_or_else(|| StoreError::NotFound(format!("advisory source {name}")))
    }

    /// The feeds the server imports, by name.
    pub async fn advisory_sources(&self) -> Result<Vec<AdvisorySource>, StoreError> {
        Ok(sqlx::query("SELECT * FROM advisory_sources ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(source_from_row)
            .collect())
    }

    /// Removes a feed (what it imported stays).
    pub async fn remove_advisory_source(
        &self,
        actor: &crate::Actor,
        name: &str,
    ) -> Result<(), StoreError> {
        let before = self.advisory_source(name).await?;
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM advisory_sources WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            actor,
            "advisory-source.remove",
            name,
            None,
            Some(&serde_json::json!({"kind": before.kind, "location": before.location})),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a feed due now.
    pub async fn run_advisory_source_now(&self, name: &str) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE advisory_sources SET next_run_at = $1 WHERE name = $2")
            .bind(now_ms())
            .bind(name)
            .execute(&self.pool)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("advisory source {name}")));
        }
        Ok(())
    }

    /// Takes the lease on a due feed for `lease_ms`, if one is due and no other server
    /// process holds it.
    pub async fn claim_due_source(
        &self,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Option<AdvisorySource>, StoreError> {
        let now = now_ms();
        let mut tx = self.write().await?;
        let due: Option<String> = sqlx::query(
            "SELECT name FROM advisory_sources WHERE next_run_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_run_at, name LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.get(0));
        let Some(name) = due else {
            tx.rollback().await?;
            return Ok(None);
        };
        let taken = sqlx::query(
            "UPDATE advisory_sources SET lease_owner = $1, lease_until = $2 WHERE name = $3 \
             AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(owner)
        .bind(now + lease_ms)
        .bind(&name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if taken.rows_affected() == 0 {
            return Ok(None);
        }
        self.advisory_source(&name).await.map(Some)
    }

    /// Renews a feed's lease while its import runs; `false` when another process has it.
    pub async fn renew_source_lease(
        &self,
        name: &str,
        owner: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE advisory_sources SET lease_until = $1 WHERE name = $2 AND lease_owner = $3",
        )
        .bind(now_ms() + lease_ms)
        .bind(name)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Ends an import of a feed: its lease given back, its next run scheduled (sooner
    /// after a failure, at most an hour), its cursor moved when the import gives one.
    pub async fn finish_source(
        &self,
        name: &str,
        owner: &str,
        cursor: Option<&str>,
        failed: bool,
    ) -> Result<(), StoreError> {
        let source = self.advisory_source(name).await?;
        let wait = if failed {
            source.every_ms.min(3_600_000)
        } else {
            source.every_ms
        };
        sqlx::query(
            "UPDATE advisory_sources SET lease_owner = NULL, lease_until = NULL, next_run_at = $1, \
             cursor = COALESCE($2, cursor) WHERE name = $3 AND lease_owner = $4",
        )
        .bind(now_ms() + wait)
        .bind(cursor)
        .bind(name)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the start of an import.
    pub async fn begin_import(
        &self,
        source: &str,
        kind: &str,
        location: &str,
    ) -> Result<String, StoreError> {
        let id = crate::new_id("imp");
        sqlx::query(
            "INSERT INTO advisory_imports (id, source_name, kind, location, started_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(source)
        .bind(kind)
        .bind(location)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Records the end of an import: what it did, or why it failed.
    pub async fn finish_import(
        &self,
        id: &str,
        summary: &MatchSummary,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE advisory_imports SET finished_at = $1, read_count = $2, changed = $3, \
             new_matches = $4, retracted = $5, error = $6 WHERE id = $7",
        )
        .bind(now_ms())
        .bind(count(summary.read))
        .bind(count(summary.changed))
        .bind(count(summary.new_matches))
        .bind(count(summary.retracted))
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest imports, newest first.
    pub async fn advisory_imports(&self, limit: i64) -> Result<Vec<AdvisoryImport>, StoreError> {
        Ok(
            sqlx::query(
                "SELECT * FROM advisory_imports ORDER BY started_at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(import_from_row)
            .collect(),
        )
    }
}

/// What monitoring says of one release, for the portfolio: its open vulnerabilities
/// (each counted once, at the highest severity any of its advisories gives; those its
/// decisions settle counted apart) by severity, those CISA lists as exploited, those
/// found since its newest assessment last changed, those whose carried decision waits
/// to be confirmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseMonitoring {
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
    /// Found after the newest assessment's last change (all, without an assessment).
    pub new_since_assessment: u64,
    /// Open ones with a decision carried from an earlier release, to confirm.
    pub to_confirm: u64,
    /// Matched, but settled by the release's decisions (not affected, a false
    /// positive, fixed): not counted above.
    pub settled: u64,
}

/// One open vulnerability of a release, as the portfolio counts it.
#[derive(Clone, Copy)]
struct Seen {
    /// Its [`severity_rank`]: the highest of its advisories'.
    rank: u8,
    exploited: bool,
    found_at: i64,
    assessed_at: Option<i64>,
    /// Whether a decision of the release settles it in every component it is found in.
    settled: bool,
    /// Whether a decision carried from an earlier release waits to be confirmed.
    carried: bool,
}

impl Seen {
    /// Counts it in `counts` (`add`), or takes back what counting it added.
    fn tally(&self, counts: &mut ReleaseMonitoring, add: bool) {
        let step = |count: &mut u64, by: bool| {
            if by {
                *count = if add {
                    *count + 1
                } else {
                    count.saturating_sub(1)
                };
            }
        };
        if self.settled {
            step(&mut counts.settled, true);
            return;
        }
        step(&mut counts.to_confirm, self.carried);
        step(
            match self.rank {
                4 => &mut counts.critical,
                3 => &mut counts.high,
                2 => &mut counts.medium,
                1 => &mut counts.low,
                _ => &mut counts.unknown,
            },
            true,
        );
        step(&mut counts.known_exploited, self.exploited);
        step(
            &mut counts.new_since_assessment,
            self.assessed_at
                .is_none_or(|assessed| self.found_at > assessed),
        );
    }
}

/// A release's counts with the generation and the assessment's change they were
/// counted at.
type Counted = (i64, Option<i64>, ReleaseMonitoring);

/// The most releases whose counts are kept.
const CACHED_RELEASES: usize = 200_000;

/// What monitoring says of each release, as last computed, with the monitoring
/// generation and the newest assessment's last change it was computed at: every change
/// of matches, of decisions and of CISA's catalogue takes a turn on `monitor_state`,
/// so a page of the portfolio is counted again only after something changed. Misses
/// are counted by one caller at a time, so a burst after an import counts them once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cache {
    held: std::sync::Arc<std::sync::Mutex<HashMap<String, Counted>>>,
    counting: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// What monitoring says of each of these releases that has an SBOM (a page of the
    /// portfolio): from the cache where nothing changed since it was counted, else
    /// counted again, one query for them all.
    pub async fn releases_monitoring(
        &self,
        releases: &[String],
    ) -> Result<HashMap<String, ReleaseMonitoring>, StoreError> {
        let mut found = HashMap::new();
        let (missing, _) = self.cached_monitoring(releases, &mut found).await?;
        if missing.is_empty() {
            return Ok(found);
        }
        let _counting = self.monitoring_cache.counting.lock().await;
        // Another caller may have counted them meanwhile; what the cache is checked
        // against now is what the counts are kept with.
        let (missing, (generation, assessed)) =
            self.cached_monitoring(&missing, &mut found).await?;
        if missing.is_empty() {
            return Ok(found);
        }
        let counted = self.count_monitoring(&missing).await?;
        // Counted after the generation was read: a change meanwhile makes the entry
        // stale at once, never wrong for long.
        let mut held = self
            .monitoring_cache
            .held
            .lock()
            .expect("the cache's lock is never poisoned");
        if held.len() + counted.len() > CACHED_RELEASES {
            held.clear();
        }
        for (release, counts) in &counted {
            let at = assessed.get(release).copied().flatten();
            held.insert(release.clone(), (generation, at, *counts));
        }
        drop(held);
        found.extend(counted);
        Ok(found)
    }

    /// Fills `found` from the cache; returns the releases with an SBOM it does not hold
    /// up to date, and the generation and assessments' changes it was checked against.
    async fn cached_monitoring(
        &self,
        releases: &[String],
        found: &mut HashMap<String, ReleaseMonitoring>,
    ) -> Result<(Vec<String>, (i64, HashMap<String, Option<i64>>)), StoreError> {
        let generation: i64 = sqlx::query("SELECT generation FROM monitor_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .get(0);
        let assessed = self.assessed_at(releases).await?;
        let held = self
            .monitoring_cache
            .held
            .lock()
            .expect("the cache's lock is never poisoned");
        let mut missing = Vec::new();
        // A release without an SBOM has nothing to count.
        for release in releases
            .iter()
            .filter(|release| assessed.contains_key(*release))
        {
            match held.get(release) {
                Some((at_generation, at_assessed, counts))
                    if *at_generation == generation
                        && Some(at_assessed) == assessed.get(release) =>
                {
                    found.insert(release.clone(), *counts);
                }
                _ => missing.push(release.clone()),
            }
        }
        drop(held);
        Ok((missing, (generation, assessed)))
    }

    /// When each release's newest assessment last changed (none without one); releases
    /// without an SBOM are left out.
    async fn assessed_at(
        &self,
        releases: &[String],
    ) -> Result<HashMap<String, Option<i64>>, StoreError> {
        let mut found = HashMap::new();
        for chunk in releases.chunks(BATCH) {
            let list: Vec<String> = (1..=chunk.len()).map(|at| format!("${at}")).collect();
            let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT s.release_id, a.updated_at FROM release_sboms s \
                 JOIN releases r ON r.id = s.release_id \
                 LEFT JOIN assessments a ON a.id = r.newest_assessment_id \
                 WHERE s.release_id IN ({})",
                list.join(", ")
            )));
            for id in chunk {
                query = query.bind(id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                found.insert(row.get::<String, _>(0), row.get::<Option<i64>, _>(1));
            }
        }
        Ok(found)
    }

    /// Counts what monitoring says of each of these releases that has an SBOM. The
    /// database folds every open vulnerability of a release into its counts as if
    /// nothing had been decided (one row a release, however many matches); then only the
    /// vulnerabilities a decision of the product names are read match by match, taken
    /// out again and counted with what was decided for the release.
    async fn count_monitoring(
        &self,
        releases: &[String],
    ) -> Result<HashMap<String, ReleaseMonitoring>, StoreError> {
        let mut found: HashMap<String, ReleaseMonitoring> = HashMap::new();
        // Read only; on PostgreSQL with room to fold a page's matches in memory (its
        // default of 4 MB sorts them on disk, at twice the time).
        let mut tx = self.pool.begin().await?;
        if self.engine() == crate::Engine::Postgres {
            sqlx::query("SET LOCAL work_mem = '64MB'")
                .execute(&mut *tx)
                .await?;
        }
        for chunk in releases.chunks(BATCH) {
            let list: Vec<String> = (1..=chunk.len()).map(|at| format!("${at}")).collect();
            let list = list.join(", ");
            let bound = |sql: String| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    query = query.bind(id.clone());
                }
                query
            };
            let folded = bound(format!(
                "SELECT s.release_id, \
                 COALESCE(SUM(CASE WHEN v.severity = 4 THEN 1 ELSE 0 END), 0) AS critical, \
                 COALESCE(SUM(CASE WHEN v.severity = 3 THEN 1 ELSE 0 END), 0) AS high, \
                 COALESCE(SUM(CASE WHEN v.severity = 2 THEN 1 ELSE 0 END), 0) AS medium, \
                 COALESCE(SUM(CASE WHEN v.severity = 1 THEN 1 ELSE 0 END), 0) AS low, \
                 COALESCE(SUM(CASE WHEN v.severity = 0 THEN 1 ELSE 0 END), 0) AS unknown, \
                 COALESCE(SUM(v.exploited), 0) AS exploited, \
                 COALESCE(SUM(CASE WHEN v.vulnerability IS NOT NULL AND (a.updated_at IS NULL \
                   OR v.found_at > a.updated_at OR s.created_at > a.updated_at) THEN 1 ELSE 0 END), 0) AS new_since \
                 FROM release_sboms s \
                 JOIN releases r ON r.id = s.release_id \
                 LEFT JOIN assessments a ON a.id = r.newest_assessment_id \
                 LEFT JOIN (SELECT rc.release_id, cv.vulnerability, \
                   MAX({SEVERITY_RANK_SQL}) AS severity, \
                   MAX(CASE WHEN k.vulnerability IS NULL THEN 0 ELSE 1 END) AS exploited, \
                   MIN(cv.found_at) AS found_at \
                   FROM release_components rc \
                   JOIN component_vulnerabilities cv ON cv.component_id = rc.component_id AND cv.state = 'open' \
                   LEFT JOIN known_exploited k ON k.vulnerability = cv.vulnerability \
                   WHERE rc.release_id IN ({list}) \
                   GROUP BY rc.release_id, cv.vulnerability) v ON v.release_id = s.release_id \
                 WHERE s.release_id IN ({list}) \
                 GROUP BY s.release_id"
            ));
            for row in folded.fetch_all(&mut *tx).await? {
                let count = |column: &str| u64::try_from(row.get::<i64, _>(column)).unwrap_or(0);
                found.insert(
                    row.get(0),
                    ReleaseMonitoring {
                        critical: count("critical"),
                        high: count("high"),
                        medium: count("medium"),
                        low: count("low"),
                        unknown: count("unknown"),
                        known_exploited: count("exploited"),
                        new_since_assessment: count("new_since"),
                        ..ReleaseMonitoring::default()
                    },
                );
            }
            // PostgreSQL plans a join from the products' decided vulnerabilities best
            // (48 ms instead of 246 ms for 100 releases); SQLite a correlated EXISTS
            // (the join costs it five times as much).
            let decided = if self.engine() == crate::Engine::Postgres {
                format!(
                    "JOIN (SELECT DISTINCT va.product_id, va.vulnerability FROM vulnerability_analyses va \
                     WHERE va.product_id IN (SELECT product_id FROM releases WHERE id IN ({list}))) d \
                     ON d.product_id = r.product_id AND d.vulnerability = cv.vulnerability \
                     WHERE rc.release_id IN ({list})"
                )
            } else {
                format!(
                    "WHERE rc.release_id IN ({list}) AND EXISTS (SELECT 1 FROM vulnerability_analyses va \
                     WHERE va.product_id = r.product_id AND va.vulnerability = cv.vulnerability)"
                )
            };
            let rows = bound(format!(
                "SELECT rc.release_id, cv.vulnerability, cv.severity, cv.found_at, s.created_at AS sbom_at, \
                 a.updated_at AS assessed_at, k.date_added, r.product_id, r.created_at AS release_created, \
                 r.version AS release_version, \
                 c.package_type, c.package_name \
                 FROM release_components rc JOIN release_sboms s ON s.release_id = rc.release_id \
                 JOIN component_vulnerabilities cv ON cv.component_id = rc.component_id AND cv.state = 'open' \
                 JOIN components c ON c.id = rc.component_id \
                 JOIN releases r ON r.id = rc.release_id \
                 LEFT JOIN assessments a ON a.id = r.newest_assessment_id \
                 LEFT JOIN known_exploited k ON k.vulnerability = cv.vulnerability \
                 {decided}"
            ))
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                continue;
            }
            // The decisions of their products, by (product, component, vulnerability).
            let mut products: Vec<String> = rows.iter().map(|row| row.get("product_id")).collect();
            products.sort();
            products.dedup();
            let mut decisions: crate::analyses::ByProduct = HashMap::new();
            for (created, analysis) in self.product_decisions(&products).await? {
                decisions
                    .entry((
                        analysis.product_id.clone(),
                        analysis.component.clone(),
                        analysis.vulnerability.clone(),
                    ))
                    .or_default()
                    .push((created, analysis));
            }
            // Per release and vulnerability: its highest severity, whether exploited,
            // when it was first found, whether a decision settles it in each of the
            // components it is found in, whether one waits to be confirmed.
            let mut seen: HashMap<(String, String), Seen> = HashMap::new();
            for row in &rows {
                let release: String = row.get("release_id");
                let vulnerability: String = row.get("vulnerability");
                let place = crate::analyses::Place::new(
                    &row.get::<String, _>("release_version"),
                    row.get("release_created"),
                    &release,
                );
                let decided = crate::analyses::carried_or_own(
                    &decisions,
                    &row.get::<String, _>("product_id"),
                    &place,
                    &component_key(row),
                    &vulnerability,
                );
                let settled = decided
                    .is_some_and(|(analysis, carried)| !carried && analysis.decision.settles());
                let carried = decided.is_some_and(|(_, carried)| carried);
                let rank = severity_rank(row.get::<Option<String>, _>("severity").as_deref());
                let found_at = row
                    .get::<i64, _>("found_at")
                    .max(row.get::<i64, _>("sbom_at"));
                let entry = seen.entry((release, vulnerability)).or_insert(Seen {
                    rank: 0,
                    exploited: false,
                    found_at,
                    assessed_at: row.get("assessed_at"),
                    settled: true,
                    carried: false,
                });
                entry.settled &= settled;
                entry.carried |= carried;
                entry.rank = entry.rank.max(rank);
                entry.exploited |= row.get::<Option<String>, _>("date_added").is_some();
                entry.found_at = entry.found_at.min(found_at);
            }
            for ((release, _), decided) in seen {
                let counts = found.entry(release).or_default();
                let undecided = Seen {
                    settled: false,
                    carried: false,
                    ..decided
                };
                undecided.tally(counts, false);
                decided.tally(counts, true);
            }
        }
        tx.rollback().await?;
        Ok(found)
    }

    /// When the newest advisory import that succeeded ended, if any did.
    pub async fn last_advisory_import(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query(
            "SELECT MAX(finished_at) FROM advisory_imports WHERE error IS NULL AND finished_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?
        .get::<Option<i64>, _>(0))
    }
}
