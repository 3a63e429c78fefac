-- Linked identities (auth_core::federation): an account of a provider, by issuer and subject,
-- linked to one user.

CREATE TABLE federated_identities (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    provider      TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    UNIQUE (issuer, subject)
);

CREATE INDEX federated_identities_user_idx ON federated_identities (user_id, created_at);
