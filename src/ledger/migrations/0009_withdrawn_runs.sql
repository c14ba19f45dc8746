-- A recorded run withdrawn as a mistake (a mistyped --as-of): who, when and why. Sightings stay
-- append-only; every query that reads marks reads `live_sightings`, which leaves out the
-- sightings of withdrawn runs, and a withdrawn run's models are no longer the latest run of
-- anything (`run_models.kind = 'withdrawn'`).
ALTER TABLE runs ADD COLUMN withdrawn_at TEXT;
ALTER TABLE runs ADD COLUMN withdrawn_by TEXT;
ALTER TABLE runs ADD COLUMN withdrawn_reason TEXT;
-- (a view's columns are fixed when it is made: a migration that adds a column to sightings
-- remakes it)
CREATE VIEW live_sightings AS
    SELECT * FROM sightings WHERE run_id NOT IN (SELECT run_id FROM runs WHERE withdrawn_at IS NOT NULL);
