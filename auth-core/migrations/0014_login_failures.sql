-- Failed logins of the lockout (auth_core::lockout): per login name (client '') and per
-- login name and client address, with the client's last successful login.

CREATE TABLE login_failures (
    account       TEXT NOT NULL,
    client        TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL,
    last_success  BIGINT,
    PRIMARY KEY (account, client)
);
