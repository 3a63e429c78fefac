-- The revocation sequence: every revocation written takes the next number, in the same
-- transaction. Instances that answer revocation checks from memory compare it with the
-- numbers their change-bus messages carried, so a revocation whose message was lost is
-- noticed (and the local view reloaded) within a heartbeat.

CREATE TABLE revocation_sequence (
    id  INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL
);

INSERT INTO revocation_sequence (id, seq) VALUES (1, 0);
