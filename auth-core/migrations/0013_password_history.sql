-- Hashes of past passwords (auth_core::password::history), newest kept per user only.

CREATE TABLE password_history (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    hash        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX password_history_user_idx ON password_history (user_id, created_at, id);
