-- One-time tokens of password reset and email verification (auth_core::account): the SHA-256
-- of each token, never the token. At most one per user and purpose: a newer one replaces it.

CREATE TABLE one_time_tokens (
    token_hash  TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    CONSTRAINT one_time_tokens_one_per_purpose UNIQUE (user_id, purpose)
);

CREATE INDEX one_time_tokens_expires_idx ON one_time_tokens (expires_at);
