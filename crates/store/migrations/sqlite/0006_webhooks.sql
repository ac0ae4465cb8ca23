-- Webhooks: subscriptions, the event outbox (written in the transaction of each change),
-- deliveries (one event to one subscription) with their attempts, and per-organization RSA keys.

CREATE TABLE webhook_subscriptions (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organizations(id),
    target_url         TEXT NOT NULL,
    events_json        TEXT NOT NULL,
    description        TEXT NOT NULL,
    secret_ciphertext  BLOB NOT NULL,
    enabled            INTEGER NOT NULL,
    failing_since      TEXT,
    created_at         TEXT NOT NULL,
    deleted_at         TEXT
);
CREATE INDEX webhook_subscriptions_by_org ON webhook_subscriptions (org_id, id);

CREATE TABLE webhook_events (
    id             TEXT PRIMARY KEY NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    event_type     TEXT NOT NULL,
    occurred_at    TEXT NOT NULL,
    data_json      TEXT NOT NULL,
    dispatched_at  TEXT
);
CREATE INDEX webhook_events_undispatched ON webhook_events (occurred_at) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    subscription_id   TEXT NOT NULL REFERENCES webhook_subscriptions(id),
    event_id          TEXT NOT NULL REFERENCES webhook_events(id),
    event_type        TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_at   TEXT,
    lease_until       TEXT,
    last_status_code  INTEGER,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    delivered_at      TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'Pending';
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id);

CREATE TABLE webhook_attempts (
    delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempt       INTEGER NOT NULL,
    attempted_at  TEXT NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    duration_ms   INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE org_signing_keys (
    org_id                  TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id),
    private_key_ciphertext  BLOB NOT NULL,
    public_key_pem          TEXT NOT NULL,
    created_at              TEXT NOT NULL
);
