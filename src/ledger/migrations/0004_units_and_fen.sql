-- The unit of the directory (`units`) a sighting's unit value resolved to at the run, and the
-- amount in integer fen (exact sums in briefs; `amount` REAL stays for older readers).
ALTER TABLE sightings ADD COLUMN unit_code TEXT;
ALTER TABLE sightings ADD COLUMN amount_fen INTEGER;
-- Every clue's latest sighting (and latest that found it) read from the index alone: briefs of
-- thousands of clues over many runs.
CREATE INDEX sightings_marks ON sightings (clue_id, seq, run_id, mark);

-- The optional inputs a model ran without (JSON list), so a brief can say what a model that
-- ran could not check.
ALTER TABLE run_models ADD COLUMN without TEXT;
