-- What a one-time token carries besides its user: the new address of an email change.

ALTER TABLE one_time_tokens ADD COLUMN payload TEXT;
