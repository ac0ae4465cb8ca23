-- Webhooks: subscriptions, the event outbox (written in the transaction of each change),
-- deliveries (one event to one subscription) with their attempts, and per-organization RSA keys.

CREATE TABLE webhook_subscriptions (
    id                 TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id             TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    target_url         TEXT COLLATE "C" NOT NULL,
    events_json        TEXT COLLATE "C" NOT NULL,
    description        TEXT COLLATE "C" NOT NULL,
    secret_ciphertext  BYTEA NOT NULL,
    enabled            BOOLEAN NOT NULL,
    failing_since      TEXT COLLATE "C",
    created_at         TEXT COLLATE "C" NOT NULL,
    deleted_at         TEXT COLLATE "C"
);
CREATE INDEX webhook_subscriptions_by_org ON webhook_subscriptions (org_id, id);

CREATE TABLE webhook_events (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    event_type     TEXT COLLATE "C" NOT NULL,
    occurred_at    TEXT COLLATE "C" NOT NULL,
    data_json      TEXT COLLATE "C" NOT NULL,
    dispatched_at  TEXT COLLATE "C"
);
CREATE INDEX webhook_events_undispatched ON webhook_events (occurred_at) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_deliveries (
    id                TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    subscription_id   TEXT COLLATE "C" NOT NULL REFERENCES webhook_subscriptions(id),
    event_id          TEXT COLLATE "C" NOT NULL REFERENCES webhook_events(id),
    event_type        TEXT COLLATE "C" NOT NULL,
    status            TEXT COLLATE "C" NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_at   TEXT COLLATE "C",
    lease_until       TEXT COLLATE "C",
    last_status_code  INTEGER,
    last_error        TEXT COLLATE "C",
    created_at        TEXT COLLATE "C" NOT NULL,
    delivered_at      TEXT COLLATE "C"
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'Pending';
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id);

CREATE TABLE webhook_attempts (
    delivery_id   TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries(id),
    attempt       INTEGER NOT NULL,
    attempted_at  TEXT COLLATE "C" NOT NULL,
    status_code   INTEGER,
    error         TEXT COLLATE "C",
    duration_ms   BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE org_signing_keys (
    org_id                  TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES organizations(id),
    private_key_ciphertext  BYTEA NOT NULL,
    public_key_pem          TEXT COLLATE "C" NOT NULL,
    created_at              TEXT COLLATE "C" NOT NULL
);
