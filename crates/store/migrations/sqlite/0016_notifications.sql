-- Notifications: the outbox (written in the transaction of the change that causes each one,
-- already rendered, leased by the delivery worker), per-person preferences, the organization's
-- settings, and marks that keep reminders, digests and due-soon notices to once per period.

CREATE TABLE notifications (
    id               TEXT PRIMARY KEY NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    user_id          TEXT NOT NULL REFERENCES users(id),
    recipient        TEXT NOT NULL,
    category         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    link             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT,
    lease_until      TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'Pending';
CREATE INDEX notifications_by_org ON notifications (org_id, id);

CREATE TABLE notification_preferences (
    org_id    TEXT NOT NULL REFERENCES organizations(id),
    user_id   TEXT NOT NULL REFERENCES users(id),
    category  TEXT NOT NULL,
    channel   TEXT NOT NULL,
    enabled   INTEGER NOT NULL,
    PRIMARY KEY (user_id, category, channel)
) WITHOUT ROWID;

CREATE TABLE notification_settings (
    org_id                     TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id),
    slack_webhook_ciphertext   BLOB,
    task_reminder_hours        INTEGER NOT NULL,
    digest_enabled             INTEGER NOT NULL,
    disabled_categories_json   TEXT NOT NULL,
    disabled_channels_json     TEXT NOT NULL,
    mandatory_categories_json  TEXT NOT NULL
);

CREATE TABLE notification_marks (
    org_id  TEXT NOT NULL REFERENCES organizations(id),
    mark    TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (org_id, mark)
) WITHOUT ROWID;
