-- Custom fields: an organization's field definitions, the options of Select fields, and the
-- values work apps hold (text, or the id of an option or a user in guid_value).

CREATE TABLE custom_fields (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id      TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name        TEXT COLLATE "C" NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,
    field_type  TEXT COLLATE "C" NOT NULL,
    required    BOOLEAN NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    CONSTRAINT custom_fields_org_name_unique UNIQUE (org_id, name_key)
);
CREATE INDEX custom_fields_by_org ON custom_fields (org_id, id);

CREATE TABLE custom_field_options (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id     TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    field_id   TEXT COLLATE "C" NOT NULL REFERENCES custom_fields(id),
    label      TEXT COLLATE "C" NOT NULL,
    position   INTEGER NOT NULL
);
CREATE INDEX custom_field_options_by_field ON custom_field_options (field_id, position);

CREATE TABLE custom_field_values (
    work_app_id  TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    field_id     TEXT COLLATE "C" NOT NULL REFERENCES custom_fields(id),
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    value        TEXT COLLATE "C",
    guid_value   TEXT COLLATE "C",
    updated_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (work_app_id, field_id)
);
CREATE INDEX custom_field_values_by_field ON custom_field_values (field_id, guid_value);
