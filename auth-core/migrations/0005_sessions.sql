-- Device-aware sessions (one per login).

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    user_agent   TEXT,
    ip           TEXT,
    name         TEXT,
    created_at   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    idle_timeout BIGINT NOT NULL,
    -- SHA-256 of the browser cookie of a cookie session (never the cookie itself).
    secret_hash  TEXT UNIQUE
);

CREATE INDEX sessions_by_user ON sessions (user_id, last_seen);
