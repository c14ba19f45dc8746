-- Leases: one holder at a time for a named duty (the scheduler of a project: a second
-- `searchlight serve` on the same ledger refuses to start). A lease that is not renewed before
-- it expires can be taken over (its holder died).
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,   -- RFC 3339, UTC
    expires_at  TEXT NOT NULL    -- RFC 3339, UTC
);

-- What started a run: 'manual' (the command line) or, from the scheduler, the job's name.
ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual';
