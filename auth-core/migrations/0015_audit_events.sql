-- The audit log (auth_core::audit): every event with its circumstances, newest read first.

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    user_id     TEXT,
    actor       TEXT,
    client_ip   TEXT,
    user_agent  TEXT,
    actor_session TEXT,
    data        TEXT NOT NULL
);

CREATE INDEX audit_events_at_idx ON audit_events (at, id);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, at, id);
CREATE INDEX audit_events_kind_idx ON audit_events (kind, at, id);
