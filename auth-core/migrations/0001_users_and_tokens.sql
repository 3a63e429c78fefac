-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are seconds since the Unix epoch.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    username_norm   TEXT NOT NULL,
    email           TEXT NOT NULL,
    email_norm      TEXT NOT NULL,
    password_hash   TEXT,
    roles           TEXT NOT NULL DEFAULT '[]',
    permissions     TEXT NOT NULL DEFAULT '[]',
    tenant          TEXT,
    is_active       BIGINT NOT NULL DEFAULT 1,
    is_verified     BIGINT NOT NULL DEFAULT 0,
    security_epoch  BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT users_username_unique UNIQUE (username_norm),
    CONSTRAINT users_email_unique UNIQUE (email_norm)
);

CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE revoked_sessions (
    session_id  TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE user_revocations (
    user_id        TEXT PRIMARY KEY,
    issued_before  BIGINT NOT NULL,
    epoch_below    BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE TABLE refresh_families (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    revoked_reason  TEXT
);

CREATE INDEX refresh_families_user_idx ON refresh_families (user_id);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
