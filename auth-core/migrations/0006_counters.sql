-- Rate-limit and lockout counters in fixed windows.

CREATE TABLE counters (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL
);
