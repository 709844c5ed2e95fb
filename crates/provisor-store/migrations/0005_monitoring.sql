-- Continuous monitoring (5.2-3). A release's SBOM is written once, when its firmware
-- scan is stored, and never changed: `release_sboms` says where it came from and
-- `release_components` which components it holds. A component is one identity (name,
-- version, package URL, CPE, source package) however many releases hold it, indexed by
-- what advisories name: its package type and name, its CPE vendor and product, its
-- package URL; `matched_at` is NULL until it has been matched against the advisories
-- (a crash between the SBOM and the match leaves it to be matched at the next start).
-- Advisories are kept per source (osv, debian, nvd) with their document and its digest,
-- so an import changes only what changed; `advisory_keys` is what they may affect.
-- `component_vulnerabilities` are the matches, open or retracted, with the advisory's
-- vulnerability id (its CVE) and severity; a release's findings are those of its
-- components. `known_exploited` is CISA's catalogue. `advisory_sources` are the feeds
-- the server imports on a schedule (a lease lets one server process run each), and
-- `advisory_imports` the record of every import. `monitor_state` has one row, which
-- every change of matches updates first, so matches and imports take their turns.
CREATE TABLE release_sboms (
    release_id TEXT PRIMARY KEY REFERENCES releases (id),
    job_id TEXT NOT NULL,
    firmware_sha256 TEXT,
    components BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE components (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    purl TEXT,
    cpe TEXT,
    source_package TEXT,
    package_type TEXT NOT NULL,
    package_name TEXT NOT NULL,
    cpe_product TEXT,
    matched_at BIGINT
);
CREATE INDEX components_package ON components (package_type, package_name);
CREATE INDEX components_cpe ON components (cpe_product);
CREATE INDEX components_purl ON components (purl);
CREATE INDEX components_unmatched ON components (matched_at);

CREATE TABLE release_components (
    release_id TEXT NOT NULL REFERENCES releases (id),
    component_id TEXT NOT NULL REFERENCES components (id),
    PRIMARY KEY (release_id, component_id)
);
CREATE INDEX release_components_component ON release_components (component_id);

CREATE TABLE advisories (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    vulnerability TEXT NOT NULL,
    summary TEXT NOT NULL,
    severity TEXT,
    modified TEXT,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    digest TEXT NOT NULL,
    document TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE INDEX advisories_vulnerability ON advisories (vulnerability);

CREATE TABLE advisory_keys (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    PRIMARY KEY (kind, name, source, advisory_id)
);
CREATE INDEX advisory_keys_advisory ON advisory_keys (source, advisory_id);

CREATE TABLE component_vulnerabilities (
    component_id TEXT NOT NULL REFERENCES components (id),
    source TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    vulnerability TEXT NOT NULL,
    severity TEXT,
    fixed TEXT,
    state TEXT NOT NULL,
    found_at BIGINT NOT NULL,
    retracted_at BIGINT,
    reason TEXT,
    PRIMARY KEY (component_id, source, advisory_id)
);
CREATE INDEX component_vulnerabilities_advisory ON component_vulnerabilities (source, advisory_id);
CREATE INDEX component_vulnerabilities_vulnerability ON component_vulnerabilities (vulnerability, state);

CREATE TABLE known_exploited (
    vulnerability TEXT PRIMARY KEY,
    date_added TEXT NOT NULL,
    name TEXT NOT NULL,
    due_date TEXT NOT NULL,
    ransomware BIGINT NOT NULL,
    imported_at BIGINT NOT NULL
);

CREATE TABLE advisory_sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    every_ms BIGINT NOT NULL,
    next_run_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    cursor TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE advisory_imports (
    id TEXT PRIMARY KEY,
    source_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    read_count BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    new_matches BIGINT NOT NULL DEFAULT 0,
    retracted BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX advisory_imports_started ON advisory_imports (started_at);

CREATE TABLE monitor_state (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO monitor_state (id, generation) VALUES (1, 0);
