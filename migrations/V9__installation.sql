-- ivcd schema, version 9: the installation's identity (issue 19).
--
-- A random 128-bit id, hex, drawn once when the database is created (or
-- migrated to this version) and never changed. It starts every alert
-- delivery's idempotency key, so two databases (a second install, a
-- replay) never send the same Idempotency-Key or Message-ID. A backup
-- restored keeps it: it is the same installation.
CREATE TABLE installation (
    -- Always 1: the table has one row.
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    id         TEXT NOT NULL CHECK (length(id) = 32)
) STRICT;
INSERT INTO installation (singleton, id) VALUES (1, lower(hex(randomblob(16))));
