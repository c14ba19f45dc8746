-- Where in a clue's run history each workflow step was taken: the clue's latest sighting at
-- that moment. 回头看 compares sightings after a rectified close with the one before it.
ALTER TABLE events ADD COLUMN seen_seq INTEGER;
