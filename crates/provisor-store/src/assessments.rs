//! Assessments as the CLI knows them: an assessment file and the files it names (scans,
//! evidence, a wording file), kept as revisions of a file tree. A revision is never
//! changed once written: an edit, an import or a scan result makes the next revision,
//! and an approval names the revision it approved, which therefore stays as approved.
//! The files' bytes are blobs of the product's manufacturer.

use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::blobs::is_sha256;
use crate::{Actor, Store, StoreError, audit, new_id, now_ms};

/// An assessment's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessmentRecord {
    /// The id.
    pub id: String,
    /// The release assessed.
    pub release_id: String,
    /// The manufacturer (the product's organisation).
    pub organisation_id: String,
    /// The lab assigned, if any.
    pub lab_id: Option<String>,
    /// The edition of the standard, as the current revision's file names it.
    pub edition: String,
    /// `self` or `lab`.
    pub kind: String,
    /// The assessment file's path within the tree (`assessment.toml`).
    pub main_file: String,
    /// The newest revision.
    pub current_revision: i64,
    /// The revision approved, if any.
    pub approved_revision: Option<i64>,
    /// Whether the current revision is conformant.
    pub conformant: Option<bool>,
    /// The current revision's verdict counts, once judged.
    pub counts: Option<Counts>,
    /// When it was made.
    pub created_at: i64,
    /// When its newest revision was made.
    pub updated_at: i64,
}

/// One revision's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    /// Its number, from 1.
    pub revision: i64,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// Why (`import`, `edit: …`, `scan result …`).
    pub note: String,
}

/// A file of a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRecord {
    /// The path relative to the assessment file's directory.
    pub path: String,
    /// `assessment`, `scan`, `evidence`, `wording` or `other`.
    pub role: String,
    /// The blob's SHA-256.
    pub sha256: String,
    /// Its size.
    pub size: i64,
}

/// A file of a new revision (its blob already stored).
pub type NewFile = FileRecord;

/// What a new assessment or revision holds, as the engine judged it.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    /// The assessment file's path within the tree.
    pub main_file: String,
    /// Every file of the tree, the assessment file included.
    pub files: Vec<NewFile>,
    /// The edition the file names.
    pub edition: String,
    /// `self` or `lab`.
    pub kind: String,
    /// Whether it is conformant.
    pub conformant: bool,
    /// Its verdict counts, when judged (the server counts the others later).
    pub counts: Option<Counts>,
    /// Why this revision was made.
    pub note: String,
}

/// A revision's verdicts counted, as the portfolio shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Mandatory provisions passed.
    pub mandatory_pass: i64,
    /// Mandatory provisions failed or not fulfilled.
    pub mandatory_unmet: i64,
    /// Mandatory provisions still open.
    pub mandatory_open: i64,
    /// Recommendations passed.
    pub recommended_pass: i64,
    /// Recommendations failed or not fulfilled.
    pub recommended_unmet: i64,
    /// Recommendations still open.
    pub recommended_open: i64,
    /// Provisions that do not apply.
    pub not_applicable: i64,
    /// Known vulnerabilities the attached scans matched; -1 when no scan checked.
    pub vulnerabilities: i64,
}

impl Counts {
    /// The column names, in the order [`Counts::values`] gives.
    pub(crate) const COLUMNS: [&'static str; 8] = [
        "mandatory_pass",
        "mandatory_unmet",
        "mandatory_open",
        "recommended_pass",
        "recommended_unmet",
        "recommended_open",
        "not_applicable",
        "vulnerabilities",
    ];

    pub(crate) fn values(&self) -> [i64; 8] {
        [
            self.mandatory_pass,
            self.mandatory_unmet,
            self.mandatory_open,
            self.recommended_pass,
            self.recommended_unmet,
            self.recommended_open,
            self.not_applicable,
            self.vulnerabilities,
        ]
    }

    /// The counts of a row that has the columns, when they are filled in.
    pub(crate) fn from_row(row: &AnyRow) -> Option<Counts> {
        let mut values = [0i64; 8];
        for (value, column) in values.iter_mut().zip(Counts::COLUMNS) {
            *value = row.get::<Option<i64>, _>(column)?;
        }
        let [
            mandatory_pass,
            mandatory_unmet,
            mandatory_open,
            recommended_pass,
            recommended_unmet,
            recommended_open,
            not_applicable,
            vulnerabilities,
        ] = values;
        Some(Counts {
            mandatory_pass,
            mandatory_unmet,
            mandatory_open,
            recommended_pass,
            recommended_unmet,
            recommended_open,
            not_applicable,
            vulnerabilities,
        })
    }
}

fn record_from_row(row: &AnyRow) -> AssessmentRecord {
    AssessmentRecord {
        id: row.get("id"),
        release_id: row.get("release_id"),
        organisation_id: row.get("organisation_id"),
        lab_id: row.get("lab_id"),
        edition: row.get("edition"),
        kind: row.get("kind"),
        main_file: row.get("main_file"),
        current_revision: row.get("current_revision"),
        approved_revision: row.get("approved_revision"),
        conformant: row
            .get::<Option<i64>, _>("conformant")
            .map(|value| value != 0),
        counts: Counts::from_row(row),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    }
}

const SELECT_ASSESSMENT: &str = "SELECT a.*, p.organisation_id FROM assessments a \
    JOIN releases r ON r.id = a.release_id JOIN products p ON p.id = r.product_id";

/// Checks a revision's tree: relative, normalised, unique paths; the assessment file
/// among them; hashes that are hashes.
fn check_tree(new: &NewAssessment) -> Result<(), StoreError> {
    let mut seen = std::collections::BTreeSet::new();
    for file in &new.files {
        let safe = !file.path.is_empty()
            && file.path.len() <= 1024
            && !file.path.starts_with('/')
            && !file.path.contains('\\')
            && file
                .path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..")
            && !file.path.chars().any(char::is_control);
        if !safe {
            return Err(StoreError::Invalid(format!(
                "file path \"{}\" is not a relative path inside the assessment's directory",
                file.path.escape_debug()
            )));
        }
        if !seen.insert(file.path.as_str()) {
            return Err(StoreError::Invalid(format!(
                "file path \"{}\" appears twice",
                file.path
            )));
        }
        if !is_sha256(&file.sha256) || file.size < 0 {
            return Err(StoreError::Invalid(format!(
                "file \"{}\": not a SHA-256 and size",
                file.path
            )));
        }
    }
    if !new.files.iter().any(|file| file.path == new.main_file) {
        return Err(StoreError::Invalid(format!(
            "the assessment file {} is not among the files",
            new.main_file
        )));
    }
    Ok(())
}

async fn record_blobs(
    tx: &mut Transaction<'_, Any>,
    organisation: &str,
    files: &[NewFile],
) -> Result<(), StoreError> {
    let now = now_ms();
    for file in files {
        let known =
            sqlx::query("SELECT size FROM blobs WHERE organisation_id = $1 AND sha256 = $2")
                .bind(organisation)
                .bind(&file.sha256)
                .fetch_optional(&mut **tx)
                .await?;
        if known.is_none() {
            sqlx::query(
                "INSERT INTO blobs (organisation_id, sha256, size, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(organisation)
            .bind(&file.sha256)
            .bind(file.size)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

async fn insert_revision(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    assessment: &str,
    revision: i64,
    new: &NewAssessment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO assessment_revisions (assessment_id, revision, created_by, created_at, note) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(assessment)
    .bind(revision)
    .bind(actor.label())
    .bind(now_ms())
    .bind(&new.note)
    .execute(&mut **tx)
    .await?;
    for file in &new.files {
        sqlx::query(
            "INSERT INTO assessment_files (assessment_id, revision, path, role, sha256, size) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(assessment)
        .bind(revision)
        .bind(&file.path)
        .bind(&file.role)
        .bind(&file.sha256)
        .bind(file.size)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records the verdict counts of an assessment's current revision.
async fn write_counts(
    tx: &mut Transaction<'_, Any>,
    assessment: &str,
    counts: Option<&Counts>,
) -> Result<(), StoreError> {
    let columns: Vec<String> = Counts::COLUMNS
        .iter()
        .enumerate()
        .map(|(at, column)| format!("{column} = ${}", at + 1))
        .collect();
    let text = format!(
        "UPDATE assessments SET {} WHERE id = ${}",
        columns.join(", "),
        Counts::COLUMNS.len() + 1
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
    for at in 0..Counts::COLUMNS.len() {
        query = query.bind(counts.map(|counts| counts.values()[at]));
    }
    query.bind(assessment).execute(&mut **tx).await?;
    Ok(())
}

/// Ranks the product an assessment is of again (its counts changed).
async fn rank_product_of(
    tx: &mut Transaction<'_, Any>,
    assessment: &str,
) -> Result<(), StoreError> {
    let product: String = sqlx::query(
        "SELECT r.product_id FROM assessments a JOIN releases r ON r.id = a.release_id WHERE a.id = $1",
    )
    .bind(assessment)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    crate::portfolio::rank_product(tx, &product).await
}

fn tree_json(new: &NewAssessment) -> serde_json::Value {
    json!({
        "main_file": new.main_file,
        "edition": new.edition,
        "kind": new.kind,
        "conformant": new.conformant,
        "counts": new.counts,
        "note": new.note,
        "files": new.files,
    })
}

impl Store {
    /// Creates an assessment of a release with its first revision.
    pub async fn create_assessment(
        &self,
        actor: &Actor,
        release: &str,
        new: &NewAssessment,
    ) -> Result<AssessmentRecord, StoreError> {
        check_tree(new)?;
        let release_record = self.release(release).await?;
        let product = self.product(&release_record.product_id).await?;
        let id = new_id("asm");
        let mut tx = self.write().await?;
        // A release's assessments are ordered by when they were made, and its newest is
        // the one the portfolio shows: two made in the same millisecond still follow
        // one another.
        let newest: Option<i64> =
            sqlx::query("SELECT MAX(created_at) FROM assessments WHERE release_id = $1")
                .bind(release)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
        let now = now_ms().max(newest.map_or(i64::MIN, |newest| newest + 1));
        record_blobs(&mut tx, &product.organisation_id, &new.files).await?;
        sqlx::query(
            "INSERT INTO assessments (id, release_id, edition, kind, main_file, current_revision, conformant, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)",
        )
        .bind(&id)
        .bind(release)
        .bind(&new.edition)
        .bind(&new.kind)
        .bind(&new.main_file)
        .bind(i64::from(new.conformant))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        write_counts(&mut tx, &id, new.counts.as_ref()).await?;
        sqlx::query(
            "UPDATE releases SET newest_assessment_id = (SELECT a.id FROM assessments a WHERE a.release_id = $1 \
             ORDER BY a.created_at DESC, a.id DESC LIMIT 1) WHERE id = $1",
        )
        .bind(release)
        .execute(&mut *tx)
        .await?;
        crate::portfolio::rank_product(&mut tx, &product.id).await?;
        insert_revision(&mut tx, actor, &id, 1, new).await?;
        audit::append(
            &mut tx,
            actor,
            "assessment.create",
            &id,
            Some(&product.organisation_id),
            None,
            Some(&tree_json(new)),
        )
        .await?;
        tx.commit().await?;
        self.assessment(&id).await
    }

    /// The assessments whose current revision has no verdict counts yet (made before
    /// the server counted them), with that revision, a batch at a time in id order
    /// after `after`.
    pub async fn uncounted(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, current_revision FROM assessments WHERE mandatory_pass IS NULL AND id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    /// Records the verdict counts of a revision judged again, if it is still the
    /// assessment's current revision; whether it was. Not audited: the counts follow
    /// from the revision's files, which are.
    pub async fn set_counts(
        &self,
        assessment: &str,
        revision: i64,
        counts: &Counts,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let current: Option<i64> =
            sqlx::query("SELECT current_revision FROM assessments WHERE id = $1")
                .bind(assessment)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.get(0));
        if current != Some(revision) {
            return Ok(false);
        }
        write_counts(&mut tx, assessment, Some(counts)).await?;
        rank_product_of(&mut tx, assessment).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds the next revision; refused when the current revision is not `based_on`
    /// (someone else changed it meanwhile).
    pub async fn add_revision(
        &self,
        actor: &Actor,
        assessment: &str,
        based_on: i64,
        new: &NewAssessment,
    ) -> Result<AssessmentRecord, StoreError> {
        self.revise(actor, assessment, based_on, new, None).await
    }

    /// Adds the next revision (as [`Store::add_revision`]) and, in the same transaction,
    /// marks the job whose result it carries done with `result` and stores the release
    /// SBOM its scan found: all happen, or none.
    /// Refused with [`StoreError::LeaseLost`] when the worker's claim is no longer
    /// current, so a worker whose lease was taken back changes nothing.
    pub async fn add_revision_finishing(
        &self,
        assessment: &str,
        based_on: i64,
        new: &NewAssessment,
        fence: &crate::Fence<'_>,
        result: &serde_json::Value,
        sbom: Option<&crate::ReleaseSbom>,
    ) -> Result<AssessmentRecord, StoreError> {
        self.revise(
            &Actor::Server,
            assessment,
            based_on,
            new,
            Some((fence, result, sbom)),
        )
        .await
    }

    async fn revise(
        &self,
        actor: &Actor,
        assessment: &str,
        based_on: i64,
        new: &NewAssessment,
        finishing: Option<(
            &crate::Fence<'_>,
            &serde_json::Value,
            Option<&crate::ReleaseSbom>,
        )>,
    ) -> Result<AssessmentRecord, StoreError> {
        check_tree(new)?;
        let record = self.assessment(assessment).await?;
        let before = self.files(assessment, record.current_revision).await?;
        let mut tx = self.write().await?;
        let revision = based_on + 1;
        // The guarded update is the optimistic lock: of two writers on the same
        // revision, one updates the row and the other finds it moved on.
        let changed = sqlx::query(
            "UPDATE assessments SET current_revision = $1, edition = $2, kind = $3, main_file = $4, \
             conformant = $5, updated_at = $6 WHERE id = $7 AND current_revision = $8",
        )
        .bind(revision)
        .bind(&new.edition)
        .bind(&new.kind)
        .bind(&new.main_file)
        .bind(i64::from(new.conformant))
        .bind(now_ms())
        .bind(assessment)
        .bind(based_on)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "assessment {assessment} is at revision {}, not {based_on}: reload it and apply the change again",
                record.current_revision
            )));
        }
        write_counts(&mut tx, assessment, new.counts.as_ref()).await?;
        rank_product_of(&mut tx, assessment).await?;
        record_blobs(&mut tx, &record.organisation_id, &new.files).await?;
        insert_revision(&mut tx, actor, assessment, revision, new).await?;
        audit::append(
            &mut tx,
            actor,
            "assessment.revise",
            assessment,
            Some(&record.organisation_id),
            Some(&json!({"revision": record.current_revision, "files": before})),
            Some(&json!({"revision": revision, "tree": tree_json(new)})),
        )
        .await?;
        if let Some((fence, result, sbom)) = finishing
            && !crate::jobs::finish_done(&mut tx, fence, result, sbom).await?
        {
            tx.rollback().await?;
            return Err(StoreError::LeaseLost(format!(
                "the lease of worker {} on job {} was lost (another worker has the job): nothing is saved",
                fence.worker, fence.job
            )));
        }
        tx.commit().await?;
        self.assessment(assessment).await
    }

    /// An assessment.
    pub async fn assessment(&self, id: &str) -> Result<AssessmentRecord, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_ASSESSMENT} WHERE a.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| record_from_row(&row))
        .ok_or_else(|| StoreError::NotFound(format!("assessment {id}")))
    }

    /// A release's assessments, newest first.
    pub async fn assessments_of_release(
        &self,
        release: &str,
    ) -> Result<Vec<AssessmentRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_ASSESSMENT} WHERE a.release_id = $1 ORDER BY a.created_at DESC, a.id DESC"
        )))
        .bind(release)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(record_from_row).collect())
    }

    /// The files of a revision, by path.
    pub async fn files(
        &self,
        assessment: &str,
        revision: i64,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT path, role, sha256, size FROM assessment_files WHERE assessment_id = $1 AND revision = $2 ORDER BY path",
        )
        .bind(assessment)
        .bind(revision)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound(format!(
                "revision {revision} of assessment {assessment}"
            )));
        }
        Ok(rows
            .iter()
            .map(|row| FileRecord {
                path: row.get(0),
                role: row.get(1),
                sha256: row.get(2),
                size: row.get(3),
            })
            .collect())
    }

    /// An assessment's revisions, oldest first.
    pub async fn revisions(&self, assessment: &str) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(
            "SELECT revision, created_by, created_at, note FROM assessment_revisions WHERE assessment_id = $1 ORDER BY revision",
        )
        .bind(assessment)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| Revision {
                revision: row.get(0),
                created_by: row.get(1),
                created_at: row.get(2),
                note: row.get(3),
            })
            .collect())
    }

    /// Assigns a lab to an assessment (or with `None` withdraws it).
    pub async fn assign_lab(
        &self,
        actor: &Actor,
        assessment: &str,
        lab: Option<&str>,
    ) -> Result<(), StoreError> {
        let record = self.assessment(assessment).await?;
        if let Some(lab) = lab {
            let organisation = self.organisation(lab).await?;
            if organisation.kind != crate::OrganisationKind::Lab {
                return Err(StoreError::Invalid(format!(
                    "{} is not a lab",
                    organisation.name
                )));
            }
        }
        let mut tx = self.write().await?;
        sqlx::query("UPDATE assessments SET lab_id = $1 WHERE id = $2")
            .bind(lab)
            .bind(assessment)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            "assessment.assign-lab",
            assessment,
            Some(&record.organisation_id),
            Some(&json!({"lab": record.lab_id})),
            Some(&json!({"lab": lab})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that a revision was approved (the approval itself is in its file's
    /// `[review]`).
    pub async fn mark_approved(
        &self,
        actor: &Actor,
        assessment: &str,
        revision: i64,
    ) -> Result<(), StoreError> {
        let record = self.assessment(assessment).await?;
        let mut tx = self.write().await?;
        sqlx::query("UPDATE assessments SET approved_revision = $1 WHERE id = $2")
            .bind(revision)
            .bind(assessment)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            "assessment.approve",
            assessment,
            Some(&record.organisation_id),
            Some(&json!({"approved_revision": record.approved_revision})),
            Some(&json!({"approved_revision": revision})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether an organisation's namespace holds a blob, and its size.
    pub async fn blob_size(
        &self,
        organisation: &str,
        sha256: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query("SELECT size FROM blobs WHERE organisation_id = $1 AND sha256 = $2")
                .bind(organisation)
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?
                .map(|row| row.get(0)),
        )
    }
}

/// An issued report: immutable, its bytes a blob of the manufacturer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedReport {
    /// The report id.
    pub id: String,
    /// The assessment.
    pub assessment_id: String,
    /// The revision reported on.
    pub revision: i64,
    /// The format.
    pub format: String,
    /// The SHA-256 of its bytes.
    pub sha256: String,
    /// Its size.
    pub size: i64,
    /// The audit chain's head it records (`seq:hash`).
    pub audit_head: String,
    /// Who issued it.
    pub issued_by: String,
    /// When.
    pub issued_at: i64,
}

fn report_from_row(row: &AnyRow) -> IssuedReport {
    IssuedReport {
        id: row.get("id"),
        assessment_id: row.get("assessment_id"),
        revision: row.get("revision"),
        format: row.get("format"),
        sha256: row.get("sha256"),
        size: row.get("size"),
        audit_head: row.get("audit_head"),
        issued_by: row.get("issued_by"),
        issued_at: row.get("issued_at"),
    }
}

impl Store {
    /// Records an issued report of an assessment's current revision (its bytes already
    /// stored as a blob).
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_report(
        &self,
        actor: &Actor,
        id: &str,
        record: &AssessmentRecord,
        format: &str,
        sha256: &str,
        size: i64,
        audit_head: &str,
    ) -> Result<IssuedReport, StoreError> {
        let report = IssuedReport {
            id: id.to_owned(),
            assessment_id: record.id.clone(),
            revision: record.current_revision,
            format: format.to_owned(),
            sha256: sha256.to_owned(),
            size,
            audit_head: audit_head.to_owned(),
            issued_by: actor.label(),
            issued_at: now_ms(),
        };
        let mut tx = self.write().await?;
        record_blobs(
            &mut tx,
            &record.organisation_id,
            &[FileRecord {
                path: String::new(),
                role: "report".into(),
                sha256: sha256.to_owned(),
                size,
            }],
        )
        .await?;
        sqlx::query(
            "INSERT INTO reports (id, assessment_id, revision, format, sha256, size, audit_head, issued_by, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&report.id)
        .bind(&report.assessment_id)
        .bind(report.revision)
        .bind(&report.format)
        .bind(&report.sha256)
        .bind(report.size)
        .bind(&report.audit_head)
        .bind(&report.issued_by)
        .bind(report.issued_at)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            "report.issue",
            id,
            Some(&record.organisation_id),
            None,
            Some(&json!(report)),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// An issued report.
    pub async fn report(&self, id: &str) -> Result<IssuedReport, StoreError> {
        sqlx::query("SELECT * FROM reports WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| report_from_row(&row))
            .ok_or_else(|| StoreError::NotFound(format!("report {id}")))
    }

    /// An assessment's issued reports, newest first.
    pub async fn reports_of(&self, assessment: &str) -> Result<Vec<IssuedReport>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM reports WHERE assessment_id = $1 ORDER BY issued_at DESC, id",
        )
        .bind(assessment)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(report_from_row).collect())
    }
}

/// A comment on an assessment, or on one of its provisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// The id.
    pub id: String,
    /// The assessment.
    pub assessment_id: String,
    /// The provision it is about, if any.
    pub provision: Option<String>,
    /// Who wrote it.
    pub author_id: String,
    /// The text.
    pub body: String,
    /// When.
    pub created_at: i64,
}

impl Store {
    /// Adds a comment.
    pub async fn add_comment(
        &self,
        actor: &Actor,
        record: &AssessmentRecord,
        author: &str,
        provision: Option<&str>,
        body: &str,
    ) -> Result<Comment, StoreError> {
        let body = body.trim();
        if body.is_empty() || body.len() > 20_000 {
            return Err(StoreError::Invalid(
                "a comment holds 1 to 20 000 bytes of text".into(),
            ));
        }
        let comment = Comment {
            id: new_id("cmt"),
            assessment_id: record.id.clone(),
            provision: provision.map(str::to_owned),
            author_id: author.to_owned(),
            body: body.to_owned(),
            created_at: now_ms(),
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO comments (id, assessment_id, provision, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&comment.id)
        .bind(&comment.assessment_id)
        .bind(comment.provision.as_deref())
        .bind(&comment.author_id)
        .bind(&comment.body)
        .bind(comment.created_at)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            "comment.add",
            &comment.id,
            Some(&record.organisation_id),
            None,
            Some(&json!(comment)),
        )
        .await?;
        tx.commit().await?;
        Ok(comment)
    }

    /// An assessment's comments, oldest first.
    pub async fn comments(&self, assessment: &str) -> Result<Vec<Comment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, assessment_id, provision, author_id, body, created_at FROM comments WHERE assessment_id = $1 ORDER BY created_at, id",
        )
        .bind(assessment)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| Comment {
                id: row.get(0),
                assessment_id: row.get(1),
                provision: row.get(2),
                author_id: row.get(3),
                body: row.get(4),
                created_at: row.get(5),
            })
            .collect())
    }
}
