-- The scheduled purge (auth_core::maintenance): its lease, so that one instance runs at a
-- time, and indexes on the columns its batches select by.

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);
CREATE INDEX revoked_sessions_expires_idx ON revoked_sessions (expires_at);
CREATE INDEX user_revocations_expires_idx ON user_revocations (expires_at);
CREATE INDEX refresh_families_expires_idx ON refresh_families (expires_at);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX login_failures_last_failure_idx ON login_failures (last_failure);
CREATE INDEX counters_window_idx ON counters (window_start);
