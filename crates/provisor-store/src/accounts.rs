//! People and how they get in: users with Argon2id password hashes, their roles per
//! organisation, sessions kept server-side (only a hash of the cookie's secret is
//! stored), API tokens (hashed at rest, scoped, expiring, revocable) and the login
//! throttle that slows guessing per account and per client address.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Actor, Store, StoreError, audit, new_id, now_ms, random_hex, sha256_hex};

/// A role in an organisation, from most to least power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages the organisation's members, products and settings.
    Admin,
    /// Edits products, releases and assessments, uploads evidence.
    Editor,
    /// Records test cases and runs scans (a lab's role).
    Assessor,
    /// Approves assessments.
    Reviewer,
    /// Reads.
    Viewer,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Editor,
        Role::Assessor,
        Role::Reviewer,
        Role::Viewer,
    ];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Assessor => "assessor",
            Role::Reviewer => "reviewer",
            Role::Viewer => "viewer",
        }
    }

    /// The role of a name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read what the user may read.
    Read,
    /// Change what the user may change (import, upload, edit).
    Write,
    /// Start scans.
    Scan,
    /// Administer (users, organisations, scan targets).
    Admin,
    /// Run jobs as a worker on another machine: claim them, fetch their images, renew
    /// their leases and complete them (a server admin's token only).
    Work,
}

impl Scope {
    /// All scopes.
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::Write,
        Scope::Scan,
        Scope::Admin,
        Scope::Work,
    ];

    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Scan => "scan",
            Scope::Admin => "admin",
            Scope::Work => "work",
        }
    }

    /// The scope of a name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == name)
    }
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The id.
    pub id: String,
    /// The login name (lowercase).
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// Whether the user administers the whole server.
    pub server_admin: bool,
    /// Whether a TOTP second factor is enrolled.
    pub totp_enrolled: bool,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// The user's organisations and roles.
    pub memberships: Vec<(String, Role)>,
    #[serde(skip)]
    pub(crate) password_hash: String,
    #[serde(skip)]
    pub(crate) totp_secret: Option<String>,
    #[serde(skip)]
    pub(crate) totp_last_step: i64,
}

impl User {
    /// The user's role in an organisation.
    pub fn role_in(&self, organisation: &str) -> Option<Role> {
        self.memberships
            .iter()
            .find(|(id, _)| id == organisation)
            .map(|(_, role)| *role)
    }

    /// The enrolled TOTP secret (base32) and the last time step used.
    pub fn totp(&self) -> Option<(&str, i64)> {
        self.totp_secret
            .as_deref()
            .map(|secret| (secret, self.totp_last_step))
    }

    /// Whether a password matches the user's hash.
    pub fn password_matches(&self, password: &str) -> bool {
        verify_password(&self.password_hash, password)
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The login name.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// The password, hashed before it is stored.
    pub password: String,
    /// Whether the user administers the server.
    pub server_admin: bool,
}

/// A session, as found from its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user_id: String,
    /// The token forms and state-changing requests must carry.
    pub csrf_token: String,
    /// Whether the second factor was given (or is not needed).
    pub second_factor: bool,
    /// When it ends, in milliseconds since the epoch.
    pub expires_at: i64,
}

/// An API token's record (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// The id.
    pub id: String,
    /// The user it acts for.
    pub user_id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was made.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// When it was last used.
    pub last_used_at: Option<i64>,
}

/// A token just made: its record and its secret, shown once.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The record.
    pub token: ApiToken,
    /// The secret (`pvt_…`), shown once and stored only as a hash.
    pub secret: String,
}

/// A login the throttle holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginBlock {
    /// Milliseconds until another attempt is accepted.
    pub retry_after_ms: i64,
}

/// How long a session lasts at most, and without use.
pub const SESSION_LIFETIME_MS: i64 = 12 * 3600 * 1000;
/// How long an unused session lasts.
pub const SESSION_IDLE_MS: i64 = 3600 * 1000;
/// Failures the throttle lets through before it starts delaying.
const FREE_FAILURES: i64 = 3;
/// The longest delay the throttle imposes.
const MAX_DELAY_MS: i64 = 15 * 60 * 1000;
/// After this long without failure, a subject's count starts over.
const FORGET_AFTER_MS: i64 = 3600 * 1000;

fn argon2() -> Argon2<'static> {
    // OWASP's second recommended Argon2id setting: 19 MiB, 2 passes, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"),
    )
}

/// Hashes a password with Argon2id and a random salt (a PHC string).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source failed");
    argon2()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .expect("Argon2id hashing with valid parameters")
        .to_string()
}

/// Whether a password matches a PHC hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    // The hash names its own parameters; `verify_password` reads them from it.
    PasswordVerifier::<str>::verify_password(&argon2(), password.as_bytes(), hash).is_ok()
}

/// A hash that no password matches, verified against when a login names no user so
/// that timing does not tell which accounts exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_hex(16)))
}

fn user_from_row(row: &AnyRow) -> User {
    User {
        id: row.get("id"),
        login: row.get("login"),
        display_name: row.get("display_name"),
        server_admin: row.get::<i64, _>("server_admin") != 0,
        totp_enrolled: row.get::<Option<String>, _>("totp_secret").is_some(),
        disabled: row.get::<i64, _>("disabled") != 0,
        memberships: Vec::new(),
        password_hash: row.get("password_hash"),
        totp_secret: row.get("totp_secret"),
        totp_last_step: row.get("totp_last_step"),
    }
}

fn token_from_row(row: &AnyRow) -> ApiToken {
    ApiToken {
        id: row.get("id"),
        user_id: row.get("user_id"),
        name: row.get("name"),
        scopes: row
            .get::<String, _>("scopes")
            .split(',')
            .filter_map(Scope::parse)
            .collect(),
        created_at: row.get("created_at"),
        expires_at: row.get("expires_at"),
        revoked_at: row.get("revoked_at"),
        last_used_at: row.get("last_used_at"),
    }
}

/// Checks a login name: 1 to 100 characters, lowercase letters, digits and `.-_@+`.
pub fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 100
        && login.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || b".-_@+".contains(&byte)
        })
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

fn check_password(password: &str) -> Result<(), StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "the password is too short: at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > 1024 {
        return Err(StoreError::Invalid(
            "the password is too long: at most 1024 bytes".to_owned(),
        ));
    }
    Ok(())
}

impl Store {
    /// How many users there are (none before setup).
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    /// Creates a user.
    pub async fn create_user(&self, actor: &Actor, new: &NewUser) -> Result<User, StoreError> {
        let login = new.login.trim().to_lowercase();
        if !valid_login(&login) {
            return Err(StoreError::Invalid(format!(
                "login \"{}\" is not acceptable: 1 to 100 lowercase letters, digits and .-_@+",
                new.login
            )));
        }
        check_password(&new.password)?;
        let hash = hash_password(&new.password);
        let id = new_id("usr");
        let mut tx = self.write().await?;
        let result = sqlx::query(
            "INSERT INTO users (id, login, display_name, password_hash, server_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&login)
        .bind(new.display_name.trim())
        .bind(&hash)
        .bind(i64::from(new.server_admin))
        .bind(now_ms())
        .execute(&mut *tx)
        .await;
        if let Err(error) = result {
            let error = StoreError::from(error);
            return Err(if error.is_unique_violation() {
                StoreError::Conflict(format!("a user with login \"{login}\" exists"))
            } else {
                error
            });
        }
        audit::append(
            &mut tx,
            actor,
            "user.create",
            &id,
            None,
            None,
            Some(&json!({"login": login, "display_name": new.display_name.trim(), "server_admin": new.server_admin})),
        )
        .await?;
        tx.commit().await?;
        self.user(&id).await
    }

    /// A user by id, with memberships.
    pub async fn user(&self, id: &str) -> Result<User, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        self.with_memberships(user_from_row(&row)).await
    }

    /// A user by login name, with memberships.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE login = $1")
            .bind(login.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.with_memberships(user_from_row(&row)).await?)),
            None => Ok(None),
        }
    }

    async fn with_memberships(&self, mut user: User) -> Result<User, StoreError> {
        let rows = sqlx::query(
            "SELECT organisation_id, role FROM memberships WHERE user_id = $1 ORDER BY organisation_id",
        )
        .bind(&user.id)
        .fetch_all(&self.pool)
        .await?;
        user.memberships = rows
            .iter()
            .filter_map(|row| {
                Some((
                    row.get::<String, _>(0),
                    Role::parse(&row.get::<String, _>(1))?,
                ))
            })
            .collect();
        Ok(user)
    }

    /// All users.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY login")
            .fetch_all(&self.pool)
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(self.with_memberships(user_from_row(row)).await?);
        }
        Ok(users)
    }

    /// Gives a user a role in an organisation (replacing the role it had).
    pub async fn set_membership(
        &self,
        actor: &Actor,
        user: &str,
        organisation: &str,
        role: Option<Role>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let before =
            sqlx::query("SELECT role FROM memberships WHERE user_id = $1 AND organisation_id = $2")
                .bind(user)
                .bind(organisation)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.get::<String, _>(0));
        sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND organisation_id = $2")
            .bind(user)
            .bind(organisation)
            .execute(&mut *tx)
            .await?;
        if let Some(role) = role {
            sqlx::query(
                "INSERT INTO memberships (user_id, organisation_id, role) VALUES ($1, $2, $3)",
            )
            .bind(user)
            .bind(organisation)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|error| match StoreError::from(error) {
                StoreError::Database(sqlx::Error::Database(db))
                    if db.is_foreign_key_violation() =>
                {
                    StoreError::NotFound(format!("user {user} or organisation {organisation}"))
                }
                other => other,
            })?;
        }
        audit::append(
            &mut tx,
            actor,
            "membership.set",
            user,
            Some(organisation),
            before.map(|role| json!({"role": role})).as_ref(),
            role.map(|role| json!({"role": role.as_str()})).as_ref(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a user's password; every session of the user ends.
    pub async fn set_password(
        &self,
        actor: &Actor,
        user: &str,
        password: &str,
    ) -> Result<(), StoreError> {
        check_password(password)?;
        let hash = hash_password(password);
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {user}")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut tx, actor, "user.password", user, None, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enrols (or with `None` removes) a user's TOTP secret.
    pub async fn set_totp(
        &self,
        actor: &Actor,
        user: &str,
        secret: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = 0 WHERE id = $2")
            .bind(secret)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            if secret.is_some() {
                "user.totp-enrol"
            } else {
                "user.totp-remove"
            },
            user,
            None,
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the TOTP time step just used, refusing a step already used (a replayed
    /// code).
    pub async fn use_totp_step(&self, user: &str, step: i64) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(user)
        .execute(&self.pool)
        .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Starts a session; returns the cookie's secret (stored only as a hash) and the
    /// session.
    pub async fn create_session(
        &self,
        user: &str,
        client: &str,
        second_factor: bool,
    ) -> Result<(String, Session), StoreError> {
        let secret = random_hex(32);
        let now = now_ms();
        let session = Session {
            user_id: user.to_owned(),
            csrf_token: random_hex(24),
            second_factor,
            expires_at: now + SESSION_LIFETIME_MS,
        };
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, second_factor, client, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .bind(user)
        .bind(&session.csrf_token)
        .bind(i64::from(second_factor))
        .bind(client)
        .bind(now)
        .bind(now)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok((secret, session))
    }

    /// The live session of a cookie's secret, its idle time renewed; `None` when it is
    /// unknown, expired or idle too long.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, StoreError> {
        let now = now_ms();
        let hash = sha256_hex(secret.as_bytes());
        let row = sqlx::query(
            "SELECT s.user_id, s.csrf_token, s.second_factor, s.expires_at, s.last_seen_at, u.disabled \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.get(3);
        let last_seen: i64 = row.get(4);
        if expires_at <= now || last_seen + SESSION_IDLE_MS <= now || row.get::<i64, _>(5) != 0 {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(&hash)
                .execute(&self.pool)
                .await?;
            return Ok(None);
        }
        // Renewing at most once a minute keeps reads from writing on every request.
        if now - last_seen > 60_000 {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Session {
            user_id: row.get(0),
            csrf_token: row.get(1),
            second_factor: row.get::<i64, _>(2) != 0,
            expires_at,
        }))
    }

    /// Marks a session's second factor as given.
    pub async fn pass_second_factor(&self, secret: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET second_factor = 1 WHERE id_hash = $1")
            .bind(sha256_hex(secret.as_bytes()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn end_session(&self, secret: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(sha256_hex(secret.as_bytes()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Makes an API token for a user.
    pub async fn create_token(
        &self,
        actor: &Actor,
        user: &str,
        name: &str,
        scopes: &[Scope],
        expires_at: i64,
    ) -> Result<NewToken, StoreError> {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(StoreError::Invalid(
                "a token needs a name of 1 to 200 bytes".to_owned(),
            ));
        }
        if scopes.is_empty() {
            return Err(StoreError::Invalid(
                "a token needs at least one scope (read, write, scan, admin)".to_owned(),
            ));
        }
        let now = now_ms();
        if expires_at <= now {
            return Err(StoreError::Invalid(
                "the token's expiry is in the past".to_owned(),
            ));
        }
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let id = new_id("tok");
        let secret = format!("pvt_{}", random_hex(32));
        let scope_text = scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, secret_hash, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(user)
        .bind(name.trim())
        .bind(sha256_hex(secret.as_bytes()))
        .bind(&scope_text)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            "token.create",
            &id,
            None,
            None,
            Some(&json!({"user": user, "name": name.trim(), "scopes": scope_text, "expires_at": expires_at})),
        )
        .await?;
        tx.commit().await?;
        Ok(NewToken {
            token: ApiToken {
                id,
                user_id: user.to_owned(),
                name: name.trim().to_owned(),
                scopes,
                created_at: now,
                expires_at,
                revoked_at: None,
                last_used_at: None,
            },
            secret,
        })
    }

    /// The live token of a secret (not revoked, not expired, its user enabled); its last
    /// use is recorded.
    pub async fn token(&self, secret: &str) -> Result<Option<ApiToken>, StoreError> {
        let now = now_ms();
        let row = sqlx::query(
            "SELECT t.* FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.disabled = 0",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from_row(&row);
        if token.last_used_at.is_none_or(|used| now - used > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&token.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(token))
    }

    /// A user's tokens.
    pub async fn tokens(&self, user: &str) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query("SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at")
            .bind(user)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(token_from_row).collect())
    }

    /// Revokes a token of a user.
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        user: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {id}")));
        }
        audit::append(&mut tx, actor, "token.revoke", id, None, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the throttle holds back logins for these subjects (`account:…`,
    /// `client:…`) now; the longest wait of them.
    pub async fn login_blocked(
        &self,
        subjects: &[String],
    ) -> Result<Option<LoginBlock>, StoreError> {
        let now = now_ms();
        let mut longest = 0;
        for subject in subjects {
            let row = sqlx::query("SELECT blocked_until FROM login_throttle WHERE subject = $1")
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                longest = longest.max(row.get::<i64, _>(0) - now);
            }
        }
        Ok((longest > 0).then_some(LoginBlock {
            retry_after_ms: longest,
        }))
    }

    /// Counts a failed login against each subject: after three, each failure doubles
    /// the wait (1 s, 2 s, 4 s … up to 15 minutes). Returns the wait now imposed.
    pub async fn login_failed(&self, subjects: &[String]) -> Result<i64, StoreError> {
        let now = now_ms();
        let mut longest = 0;
        for subject in subjects {
            let mut tx = self.write().await?;
            let row = sqlx::query(
                "SELECT failures, last_failure_at FROM login_throttle WHERE subject = $1",
            )
            .bind(subject)
            .fetch_optional(&mut *tx)
            .await?;
            let failures = match row {
                Some(row) if now - row.get::<i64, _>(1) < FORGET_AFTER_MS => {
                    row.get::<i64, _>(0) + 1
                }
                _ => 1,
            };
            let delay = if failures <= FREE_FAILURES {
                0
            } else {
                (1000_i64 << (failures - FREE_FAILURES - 1).min(20)).min(MAX_DELAY_MS)
            };
            longest = longest.max(delay);
            sqlx::query("DELETE FROM login_throttle WHERE subject = $1")
                .bind(subject)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO login_throttle (subject, failures, blocked_until, last_failure_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(subject)
            .bind(failures)
            .bind(now + delay)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(longest)
    }

    /// Clears the throttle's count for a subject after a successful login.
    pub async fn login_succeeded(&self, subject: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_throttle WHERE subject = $1")
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
