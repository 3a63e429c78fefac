-- Service-scoped permission schemas (seed 004), per-user values and service admins.

CREATE TABLE service_permissions (
    service         TEXT NOT NULL,
    name            TEXT NOT NULL,
    label           TEXT NOT NULL,
    description     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    allowed_values  TEXT NOT NULL DEFAULT '[]',
    default_value   TEXT,
    PRIMARY KEY (service, name)
);

CREATE TABLE service_user_values (
    service  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (service, user_id, name)
);

CREATE TABLE service_admins (
    service  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (service, user_id)
);
