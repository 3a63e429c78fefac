-- Pending state of multi-step flows (auth_core::pending): WebAuthn ceremonies between their
-- start and finish, taken once.

CREATE TABLE pending_states (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX pending_states_expiry ON pending_states (expires_at);

-- Passkeys (auth_core::mfa::passkey): the credential as webauthn-rs serializes it (public key,
-- signature counter, flags), under its credential id.

CREATE TABLE passkeys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    user_handle  TEXT NOT NULL,
    name         TEXT NOT NULL,
    credential   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE INDEX passkeys_user_idx ON passkeys (user_id, created_at);
