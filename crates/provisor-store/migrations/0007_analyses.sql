-- Decisions that carry (5.2-3): what a manufacturer decided about a vulnerability of a
-- component of a release, in CycloneDX's VEX vocabulary (state, justification,
-- responses, detail). `component` is the component's lookup key, its package type and
-- name (`deb:openssl`, `generic:busybox`), so the decision holds for whichever version
-- the next release ships. A release without a decision of its own shows the one of the
-- latest release of its product before it (by version) that has one, as carried until somebody
-- confirms it there (`origin` = `confirmed`, `carried_from` the decision it copies).
-- `origin` also says where a decision came from: a person, an uploaded VEX statement,
-- or a backport (a patch in the component's pedigree, Yocto's CVE_STATUS, a CVE id in
-- a patch's name, a Debian revision that fixes it). `analysis_history` keeps every
-- change (the audit log keeps them too, chained).
CREATE TABLE vulnerability_analyses (
    id TEXT PRIMARY KEY,
    release_id TEXT NOT NULL REFERENCES releases (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    component TEXT NOT NULL,
    vulnerability TEXT NOT NULL,
    state TEXT NOT NULL,
    justification TEXT,
    response TEXT NOT NULL,
    detail TEXT NOT NULL,
    origin TEXT NOT NULL,
    carried_from TEXT,
    decided_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (release_id, component, vulnerability)
);
CREATE INDEX vulnerability_analyses_product ON vulnerability_analyses (product_id, component, vulnerability);

CREATE TABLE analysis_history (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    release_id TEXT NOT NULL REFERENCES releases (id),
    component TEXT NOT NULL,
    vulnerability TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT,
    justification TEXT,
    response TEXT,
    detail TEXT,
    origin TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX analysis_history_subject ON analysis_history (product_id, component, vulnerability, at);
