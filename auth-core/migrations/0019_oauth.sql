-- The authorization server (auth_core::oauth): registered clients, their secrets only as
-- SHA-256, and the client a session was started for.

CREATE TABLE oauth_clients (
    client_id          TEXT PRIMARY KEY,
    client_name        TEXT NOT NULL,
    secret_hash        TEXT,
    auth_method        TEXT NOT NULL,
    grant_types        TEXT NOT NULL,
    redirect_uris      TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    -- 0 only for a confidential client registered without PKCE (apexauthlib's code exchange).
    require_pkce       BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    created_by         TEXT
);

-- JSON {client_id, scope}; NULL for sessions of the service's own logins.
ALTER TABLE sessions ADD COLUMN client TEXT;
