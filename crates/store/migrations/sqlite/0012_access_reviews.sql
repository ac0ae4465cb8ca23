-- Access reviews (certification campaigns): the campaign, one item per access it snapshotted when
-- it started, and each item's reviewers.

CREATE TABLE access_reviews (
    id                   TEXT PRIMARY KEY NOT NULL,
    org_id               TEXT NOT NULL REFERENCES organizations(id),
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    description          TEXT,
    review_type          TEXT NOT NULL,
    due_date             TEXT NOT NULL,
    -- The apps as asked (a JSON array of ids; empty: every Managed app at the start).
    work_app_ids_json    TEXT NOT NULL,
    created_by_user_id   TEXT NOT NULL REFERENCES users(id),
    -- Open, Closed or Cancelled (Overdue is an Open campaign past its due date).
    status               TEXT NOT NULL,
    undecided_items      TEXT NOT NULL,
    close_at_due_date    INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    closed_at            TEXT,
    closed_by_user_id    TEXT REFERENCES users(id),
    overdue_notified_at  TEXT,
    CONSTRAINT access_reviews_org_name_unique UNIQUE (org_id, name_key)
);
CREATE INDEX access_reviews_by_org ON access_reviews (org_id, id);
CREATE INDEX access_reviews_due ON access_reviews (due_date) WHERE status = 'Open';

CREATE TABLE access_review_items (
    id                   TEXT PRIMARY KEY NOT NULL,
    org_id               TEXT NOT NULL REFERENCES organizations(id),
    review_id            TEXT NOT NULL REFERENCES access_reviews(id),
    user_id              TEXT NOT NULL REFERENCES users(id),
    work_app_id          TEXT NOT NULL REFERENCES work_apps(id),
    permission_level_id  TEXT REFERENCES permission_levels(id),
    source               TEXT NOT NULL,
    granted_at           TEXT NOT NULL,
    access_expires_at    TEXT,
    unassigned_reason    TEXT,
    decision             TEXT,
    decision_level_id    TEXT REFERENCES permission_levels(id),
    comment              TEXT,
    decided_by_user_id   TEXT REFERENCES users(id),
    decided_at           TEXT,
    outcome              TEXT,
    outcome_note         TEXT,
    outcome_request_id   TEXT REFERENCES requests(id),
    carried_out_at       TEXT,
    CONSTRAINT access_review_items_one_per_access UNIQUE (review_id, work_app_id, user_id)
);
CREATE INDEX access_review_items_by_review ON access_review_items (review_id, id);

CREATE TABLE access_review_reviewers (
    item_id    TEXT NOT NULL REFERENCES access_review_items(id),
    user_id    TEXT NOT NULL REFERENCES users(id),
    review_id  TEXT NOT NULL REFERENCES access_reviews(id),
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (item_id, user_id)
) WITHOUT ROWID;
CREATE INDEX access_review_reviewers_by_user ON access_review_reviewers (user_id, review_id, item_id);
