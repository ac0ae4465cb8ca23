-- Notifications: the outbox (written in the transaction of the change that causes each one,
-- already rendered, leased by the delivery worker), per-person preferences, the organization's
-- settings, and marks that keep reminders, digests and due-soon notices to once per period.

CREATE TABLE notifications (
    id               TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    user_id          TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    recipient        TEXT COLLATE "C" NOT NULL,
    category         TEXT COLLATE "C" NOT NULL,
    channel          TEXT COLLATE "C" NOT NULL,
    subject          TEXT COLLATE "C" NOT NULL,
    body_text        TEXT COLLATE "C" NOT NULL,
    body_html        TEXT COLLATE "C" NOT NULL,
    link             TEXT COLLATE "C" NOT NULL,
    status           TEXT COLLATE "C" NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT COLLATE "C",
    lease_until      TEXT COLLATE "C",
    last_error       TEXT COLLATE "C",
    created_at       TEXT COLLATE "C" NOT NULL,
    sent_at          TEXT COLLATE "C"
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'Pending';
CREATE INDEX notifications_by_org ON notifications (org_id, id);

CREATE TABLE notification_preferences (
    org_id    TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    category  TEXT COLLATE "C" NOT NULL,
    channel   TEXT COLLATE "C" NOT NULL,
    enabled   BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, category, channel)
);

CREATE TABLE notification_settings (
    org_id                     TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES organizations(id),
    slack_webhook_ciphertext   BYTEA,
    task_reminder_hours        INTEGER NOT NULL,
    digest_enabled             BOOLEAN NOT NULL,
    disabled_categories_json   TEXT COLLATE "C" NOT NULL,
    disabled_channels_json     TEXT COLLATE "C" NOT NULL,
    mandatory_categories_json  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE notification_marks (
    org_id  TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    mark    TEXT COLLATE "C" NOT NULL,
    at      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, mark)
);
