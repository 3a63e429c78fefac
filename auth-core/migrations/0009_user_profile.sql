-- The fields of a service's own user model (auth_core::user::Profile) as JSON text:
-- {"public": {...}, "private": {...}}, `{}` for the built-in user.

ALTER TABLE users ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
