-- casbin policies (ABAC, RBAC with domains), in our own store for both backends.

CREATE TABLE casbin_rules (
    ptype  TEXT NOT NULL,
    v0     TEXT NOT NULL DEFAULT '',
    v1     TEXT NOT NULL DEFAULT '',
    v2     TEXT NOT NULL DEFAULT '',
    v3     TEXT NOT NULL DEFAULT '',
    v4     TEXT NOT NULL DEFAULT '',
    v5     TEXT NOT NULL DEFAULT '',
    CONSTRAINT casbin_rules_unique UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);
