-- Role definitions kept in the store, composed with the typed and configured roles.

CREATE TABLE roles (
    name         TEXT PRIMARY KEY,
    inherits     TEXT NOT NULL DEFAULT '[]',
    permissions  TEXT NOT NULL DEFAULT '[]',
    updated_at   BIGINT NOT NULL
);
