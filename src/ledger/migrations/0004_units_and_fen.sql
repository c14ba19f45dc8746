-- The unit of the directory (`units`) a sighting's unit value resolved to at the run, and the
-- amount in integer fen (exact sums in briefs; `amount` REAL stays for older readers).
ALTER TABLE sightings ADD COLUMN unit_code TEXT;
ALTER TABLE sightings ADD COLUMN amount_fen INTEGER;
CREATE INDEX sightings_unit ON sightings (unit_code);

-- The optional inputs a model ran without (JSON list), so a brief can say what a model that
-- ran could not check.
ALTER TABLE run_models ADD COLUMN without TEXT;
