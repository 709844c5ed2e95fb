-- The team server's schema. One file for SQLite and PostgreSQL: only types and
-- statements both read the same way (TEXT, BIGINT, primary and foreign keys, unique
-- constraints, plain indexes). Ids are text the server makes; times are milliseconds
-- since the Unix epoch; flags are 0 or 1; documents are JSON text.

CREATE TABLE server_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    require_totp BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    server_admin BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    user_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, organisation_id)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    second_factor BIGINT NOT NULL DEFAULT 0,
    client TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_throttle (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    version TEXT NOT NULL,
    support_period_end TEXT,
    firmware_sha256 TEXT,
    firmware_name TEXT,
    firmware_size BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (product_id, version)
);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    release_id TEXT NOT NULL REFERENCES releases (id),
    lab_id TEXT REFERENCES organisations (id),
    edition TEXT NOT NULL,
    kind TEXT NOT NULL,
    main_file TEXT NOT NULL,
    current_revision BIGINT NOT NULL,
    approved_revision BIGINT,
    conformant BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX assessments_release ON assessments (release_id);
CREATE INDEX assessments_lab ON assessments (lab_id);

CREATE TABLE assessment_revisions (
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    revision BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (assessment_id, revision)
);

CREATE TABLE assessment_files (
    assessment_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    path TEXT NOT NULL,
    role TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (assessment_id, revision, path),
    FOREIGN KEY (assessment_id, revision) REFERENCES assessment_revisions (assessment_id, revision)
);

CREATE TABLE blobs (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, sha256)
);

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    revision BIGINT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    audit_head TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX reports_assessment ON reports (assessment_id);

CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    provision TEXT,
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_assessment ON comments (assessment_id);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    organisation_id TEXT,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL,
    public_key TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE TABLE scan_targets (
    target TEXT PRIMARY KEY,
    allowed_by TEXT NOT NULL,
    allowed_at BIGINT NOT NULL,
    note TEXT NOT NULL
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    progress TEXT NOT NULL DEFAULT '',
    error TEXT,
    result TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX jobs_queue ON jobs (state, created_at);

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
