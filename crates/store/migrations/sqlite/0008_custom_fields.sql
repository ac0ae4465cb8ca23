-- Custom fields: an organization's field definitions, the options of Select fields, and the
-- values work apps hold (text, or the id of an option or a user in guid_value).

CREATE TABLE custom_fields (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    field_type  TEXT NOT NULL,
    required    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT custom_fields_org_name_unique UNIQUE (org_id, name_key)
);
CREATE INDEX custom_fields_by_org ON custom_fields (org_id, id);

CREATE TABLE custom_field_options (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    field_id   TEXT NOT NULL REFERENCES custom_fields(id),
    label      TEXT NOT NULL,
    position   INTEGER NOT NULL
);
CREATE INDEX custom_field_options_by_field ON custom_field_options (field_id, position);

CREATE TABLE custom_field_values (
    work_app_id  TEXT NOT NULL REFERENCES work_apps(id),
    field_id     TEXT NOT NULL REFERENCES custom_fields(id),
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    value        TEXT,
    guid_value   TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (work_app_id, field_id)
) WITHOUT ROWID;
CREATE INDEX custom_field_values_by_field ON custom_field_values (field_id, guid_value);
