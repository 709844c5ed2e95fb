//! The audit log: every change a person or token makes, appended in the transaction that
//! makes it, with who, when, what, and the record before and after. Each entry's hash
//! covers its fields and the previous entry's hash, so an altered or removed entry
//! breaks the chain; the chain's head is written into every issued report and into
//! checkpoints the server signs with its Ed25519 key, so cutting entries off the end is
//! detected too. Job bookkeeping (leases, heartbeats, progress) is operational state and
//! is not audited.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use crate::{Actor, Store, StoreError, decode_hex, hex, now_ms, sha256_hex};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    /// Its place in the chain, from 1.
    pub seq: i64,
    /// When, in milliseconds since the epoch.
    pub at: i64,
    /// Who (`Actor::label`).
    pub actor: String,
    /// What was done (`assessment.import`, `user.create`, …).
    pub action: String,
    /// What it was done to (an id).
    pub subject: String,
    /// The organisation the subject belongs to, if any.
    pub organisation: Option<String>,
    /// The record before the change.
    pub before: Option<Value>,
    /// The record after the change.
    pub after: Option<Value>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// A signed statement of the chain's head at one point.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoint {
    /// The entry the head was at.
    pub seq: i64,
    /// That entry's hash.
    pub hash: String,
    /// The Ed25519 signature of [`checkpoint_message`], hex.
    pub signature: String,
    /// The public key that signed, hex.
    pub public_key: String,
    /// When it was signed.
    pub at: i64,
}

/// The outcome of checking the log.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Verification {
    /// How many entries were checked.
    pub entries: i64,
    /// How many checkpoints were checked.
    pub checkpoints: usize,
    /// How many issued reports' chain heads were checked.
    pub reports: usize,
    /// What is wrong, each with the place; empty when the log holds.
    pub problems: Vec<String>,
}

impl Verification {
    /// Whether the log holds.
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The server's signing key, kept in a file of the data directory (not in the
/// database, so that whoever can rewrite the database cannot sign a new head).
#[derive(Clone)]
pub struct ServerKey {
    key: SigningKey,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "ServerKey({})", self.public_hex())
    }
}

/// What a checkpoint signs.
pub fn checkpoint_message(seq: i64, hash: &str) -> String {
    format!("provisor-audit-checkpoint\n{seq}\n{hash}\n")
}

/// The fields an entry's hash covers, as stored.
struct Chained<'a> {
    prev_hash: &'a str,
    seq: i64,
    at: i64,
    actor: &'a str,
    action: &'a str,
    subject: &'a str,
    organisation: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

impl Chained<'_> {
    fn hash(&self) -> String {
        // A JSON array is an unambiguous encoding of the fields (no separator can be
        // forged inside a value).
        let fields = serde_json::json!([
            self.prev_hash,
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.subject,
            self.organisation,
            self.before,
            self.after
        ]);
        sha256_hex(fields.to_string().as_bytes())
    }
}

impl ServerKey {
    /// Reads the key file, or makes a new key and writes it (mode 0600) when there is
    /// none.
    pub fn load_or_create(path: &Path) -> Result<ServerKey, StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let seed = decode_hex32(text.trim()).ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "{}: not a server key (64 hex digits expected); restore it from a backup, or move it away to make a new one",
                        path.display()
                    ))
                })?;
                Ok(ServerKey {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).expect("the operating system's random source failed");
                let temporary = path.with_extension("tmp");
                {
                    use std::io::Write;
                    let mut options = std::fs::OpenOptions::new();
                    options.write(true).create(true).truncate(true);
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::OpenOptionsExt;
                        options.mode(0o600);
                    }
                    let mut file = options.open(&temporary).map_err(io)?;
                    file.write_all(format!("{}\n", hex(&seed)).as_bytes())
                        .map_err(io)?;
                    file.sync_all().map_err(io)?;
                }
                std::fs::rename(&temporary, path).map_err(io)?;
                Ok(ServerKey {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(error) => Err(io(error)),
        }
    }

    /// The public key, hex.
    pub fn public_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    fn sign(&self, message: &str) -> String {
        hex(&self.key.sign(message.as_bytes()).to_bytes())
    }
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = decode_hex(text)?;
    bytes.try_into().ok()
}

/// Appends an entry inside the caller's transaction. The head row is updated first, so
/// on PostgreSQL concurrent writers queue on its row lock and on SQLite on the write
/// lock: the chain never forks.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn append(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    action: &str,
    subject: &str,
    organisation: Option<&str>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<AuditEntry, StoreError> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    let seq: i64 = row.get(0);
    let prev_hash: String = row.get(1);
    let at = now_ms();
    let actor = actor.label();
    let before_text = before.map(Value::to_string);
    let after_text = after.map(Value::to_string);
    let hash = Chained {
        prev_hash: &prev_hash,
        seq,
        at,
        actor: &actor,
        action,
        subject,
        organisation,
        before: before_text.as_deref(),
        after: after_text.as_deref(),
    }
    .hash();
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, organisation_id, before_json, \
         after_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(at)
    .bind(&actor)
    .bind(action)
    .bind(subject)
    .bind(organisation)
    .bind(before_text.as_deref())
    .bind(after_text.as_deref())
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(AuditEntry {
        seq,
        at,
        actor,
        action: action.to_owned(),
        subject: subject.to_owned(),
        organisation: organisation.map(str::to_owned),
        before: before.cloned(),
        after: after.cloned(),
        prev_hash,
        hash,
    })
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> AuditEntry {
    let parse = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
    AuditEntry {
        seq: row.get("seq"),
        at: row.get("at"),
        actor: row.get("actor"),
        action: row.get("action"),
        subject: row.get("subject"),
        organisation: row.get("organisation_id"),
        before: parse(row.get("before_json")),
        after: parse(row.get("after_json")),
        prev_hash: row.get("prev_hash"),
        hash: row.get("hash"),
    }
}

impl Store {
    /// Records a server-wide change kept outside the database (the advisory database
    /// in the data directory): who, what, and its new state.
    pub async fn record_event(
        &self,
        actor: &Actor,
        action: &str,
        subject: &str,
        after: &Value,
    ) -> Result<AuditEntry, StoreError> {
        let mut tx = self.write().await?;
        let entry = append(&mut tx, actor, action, subject, None, None, Some(after)).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// The chain's head: the last entry's number and hash (`0` and [`GENESIS`] when
    /// empty).
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.get(0), row.get(1)))
    }

    /// Entries after `after_seq`, at most `limit`, optionally only an organisation's.
    pub async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
        organisation: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = match organisation {
            Some(organisation) => {
                sqlx::query(
                    "SELECT * FROM audit_log WHERE seq > $1 AND organisation_id = $2 ORDER BY seq LIMIT $3",
                )
                .bind(after_seq)
                .bind(organisation)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows.iter().map(entry_from_row).collect())
    }

    /// Signs the current head with the server's key and records the checkpoint (none
    /// when the head is already checkpointed).
    pub async fn checkpoint(&self, key: &ServerKey) -> Result<Option<Checkpoint>, StoreError> {
        let (seq, hash) = self.audit_head().await?;
        if seq == 0 {
            return Ok(None);
        }
        let exists = sqlx::query("SELECT seq FROM audit_checkpoints WHERE seq = $1")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_some() {
            return Ok(None);
        }
        let checkpoint = Checkpoint {
            seq,
            signature: key.sign(&checkpoint_message(seq, &hash)),
            hash,
            public_key: key.public_hex(),
            at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, signature, public_key, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.hash)
        .bind(&checkpoint.signature)
        .bind(&checkpoint.public_key)
        .bind(checkpoint.at)
        .execute(&self.pool)
        .await?;
        Ok(Some(checkpoint))
    }

    /// Checks the whole log: every entry's hash and link, the numbering, the head,
    /// every checkpoint's signature (by `key`) and place, and every issued report's
    /// recorded head. Reads in pages, so the log's size does not bound memory.
    pub async fn verify_audit(&self, key: &ServerKey) -> Result<Verification, StoreError> {
        let mut verification = Verification::default();
        let mut expected_prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut hashes_at_checkpoints = std::collections::BTreeMap::new();
        let checkpoints = sqlx::query(
            "SELECT seq, hash, signature, public_key, at FROM audit_checkpoints ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let wanted: std::collections::BTreeSet<i64> =
            checkpoints.iter().map(|row| row.get::<i64, _>(0)).collect();
        let reports = sqlx::query("SELECT id, audit_head FROM reports ORDER BY issued_at")
            .fetch_all(&self.pool)
            .await?;
        let mut report_heads = std::collections::BTreeMap::<i64, Vec<(String, String)>>::new();
        for row in &reports {
            let id: String = row.get(0);
            let head: String = row.get(1);
            match head
                .split_once(':')
                .and_then(|(seq, hash)| Some((seq.parse::<i64>().ok()?, hash)))
            {
                Some((seq, hash)) => report_heads
                    .entry(seq)
                    .or_default()
                    .push((id, hash.to_owned())),
                None => verification.problems.push(format!(
                    "report {id}: recorded chain head \"{head}\" is malformed"
                )),
            }
        }
        let mut after = 0;
        loop {
            // Raw rows: the hash covers the stored text, not a re-serialisation of it.
            let page =
                sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000")
                    .bind(after)
                    .fetch_all(&self.pool)
                    .await?;
            let Some(last) = page.last() else { break };
            after = last.get("seq");
            for row in &page {
                let seq: i64 = row.get("seq");
                let prev_hash: String = row.get("prev_hash");
                let hash: String = row.get("hash");
                let actor: String = row.get("actor");
                let action: String = row.get("action");
                let subject: String = row.get("subject");
                let organisation: Option<String> = row.get("organisation_id");
                let before: Option<String> = row.get("before_json");
                let after_text: Option<String> = row.get("after_json");
                verification.entries += 1;
                if seq != expected_seq {
                    verification.problems.push(format!(
                        "entry {seq}: expected entry {expected_seq} here; entries {expected_seq}..{} are missing",
                        seq - 1
                    ));
                }
                if prev_hash != expected_prev {
                    verification.problems.push(format!(
                        "entry {seq}: its link to the previous entry does not match (an entry before it was changed or removed)"
                    ));
                }
                let recomputed = Chained {
                    prev_hash: &prev_hash,
                    seq,
                    at: row.get("at"),
                    actor: &actor,
                    action: &action,
                    subject: &subject,
                    organisation: organisation.as_deref(),
                    before: before.as_deref(),
                    after: after_text.as_deref(),
                }
                .hash();
                if recomputed != hash {
                    verification.problems.push(format!(
                        "entry {seq} ({action} {subject} by {actor}): its content does not match its hash (the entry was altered)"
                    ));
                }
                if wanted.contains(&seq) {
                    hashes_at_checkpoints.insert(seq, hash.clone());
                }
                if let Some(heads) = report_heads.get(&seq) {
                    for (id, recorded) in heads {
                        verification.reports += 1;
                        if *recorded != hash {
                            verification.problems.push(format!(
                                "report {id}: the chain head it records (entry {seq}) differs from the log's entry"
                            ));
                        }
                    }
                }
                expected_prev = hash;
                expected_seq = seq + 1;
            }
        }
        let (head_seq, head_hash) = self.audit_head().await?;
        if head_seq != expected_seq - 1 || head_hash != expected_prev {
            verification.problems.push(format!(
                "the recorded head (entry {head_seq}) is not the log's last entry ({}): entries were cut off the end or added around the chain",
                expected_seq - 1
            ));
        }
        let public = key.key.verifying_key();
        for row in &checkpoints {
            let seq: i64 = row.get(0);
            let hash: String = row.get(1);
            let signature: String = row.get(2);
            verification.checkpoints += 1;
            let signed = decode_hex(&signature)
                .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
                .map(|bytes| Signature::from_bytes(&bytes))
                .is_some_and(|signature| {
                    public
                        .verify(checkpoint_message(seq, &hash).as_bytes(), &signature)
                        .is_ok()
                });
            if !signed {
                verification.problems.push(format!(
                    "checkpoint at entry {seq}: the signature does not hold for this server's key"
                ));
            }
            match hashes_at_checkpoints.get(&seq) {
                Some(found) if *found == hash => {}
                Some(_) => verification.problems.push(format!(
                    "checkpoint at entry {seq}: the log's entry {seq} differs from the one signed"
                )),
                None => verification.problems.push(format!(
                    "checkpoint at entry {seq}: the log has no entry {seq} (entries were cut off the end)"
                )),
            }
        }
        for (seq, heads) in &report_heads {
            if *seq >= expected_seq {
                for (id, _) in heads {
                    verification.reports += 1;
                    verification.problems.push(format!(
                        "report {id}: it records chain head entry {seq}, which the log no longer has (entries were cut off the end)"
                    ));
                }
            }
        }
        Ok(verification)
    }
}
