-- Identifiers that cannot impersonate each other (auth_core::user::identifier): the TR39
-- confusable skeleton of each compared form, unique like the forms themselves, and the
-- version of the rules that computed a row's derived columns. Rows written before this
-- migration have version 0 and no skeleton; the store recomputes them in Rust when it starts
-- (SQL cannot compute PRECIS or TR39), leaving a row that would collide with another as it
-- was, for `auth-service users collisions` to report. NULLs never collide.

ALTER TABLE users ADD COLUMN username_skeleton TEXT;
ALTER TABLE users ADD COLUMN email_skeleton TEXT;
ALTER TABLE users ADD COLUMN identifier_version BIGINT NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX users_username_skeleton_unique ON users (username_skeleton);
CREATE UNIQUE INDEX users_email_skeleton_unique ON users (email_skeleton);
CREATE INDEX users_identifier_version_idx ON users (identifier_version);
