-- When a user last logged in and how many times: kept by every successful login, shown in
-- the public user.

ALTER TABLE users ADD COLUMN last_login_at BIGINT;
ALTER TABLE users ADD COLUMN login_count BIGINT NOT NULL DEFAULT 0;
