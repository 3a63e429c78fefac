-- Second factors (auth_core::mfa): TOTP authenticators with their secrets sealed
-- (AES-256-GCM), backup codes as keyed tags (HMAC-SHA256), and the factors each session
-- satisfied.

CREATE TABLE totp_credentials (
    user_id       TEXT PRIMARY KEY,
    sealed_secret TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    -- The last time step a code was accepted for (replays of it and earlier are refused).
    last_step     BIGINT
);

CREATE TABLE backup_codes (
    user_id    TEXT NOT NULL,
    code_tag   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_tag)
);

-- JSON array of {kind, at}; NULL for sessions of before (a password login).
ALTER TABLE sessions ADD COLUMN factors TEXT;
