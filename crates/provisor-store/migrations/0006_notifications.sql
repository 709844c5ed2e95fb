-- Notifications through an outbox. An event (a vulnerability found on, or retracted
-- from, an organisation's releases; one of them added to CISA's catalogue of exploited
-- vulnerabilities; a support period ending) is written in the same transaction as the
-- change it reports, with one delivery per rule of its organisation that wants it, so
-- nothing reported is lost and nothing is reported that did not happen. Deliveries are
-- sent at least once (a lease while one is being sent, retries with backoff, `dead`
-- after the last attempt with its error); a receiver tells repeats apart by the
-- delivery's id. A rule sends to a webhook (signed with its secret) or into an e-mail
-- digest, filtered by event kind, least severity and product.
CREATE TABLE notification_rules (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    secret TEXT,
    kinds TEXT NOT NULL,
    min_severity TEXT,
    product_id TEXT REFERENCES products (id),
    disabled BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL,
    severity TEXT,
    payload TEXT NOT NULL,
    once_key TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_organisation ON events (organisation_id, created_at);
-- An event to report once only (a support period ending) carries a key.
CREATE UNIQUE INDEX events_once ON events (once_key);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    rule_id TEXT NOT NULL REFERENCES notification_rules (id),
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, channel, next_attempt_at);
CREATE INDEX deliveries_rule ON deliveries (rule_id, state);
