-- Clue ids moved to a typed encoding of the entity key (src/runner/identity.rs). A clue first
-- recorded under the older id keeps it; the new id is an alias of it, recorded the first time
-- a run returns the clue under the new id (nothing recorded is rewritten).
CREATE TABLE clue_aliases (
    alias    TEXT PRIMARY KEY,                        -- the clue's id under the current encoding
    clue_id  TEXT NOT NULL REFERENCES clues (clue_id), -- the id the ledger first knew it by
    run_id   TEXT NOT NULL REFERENCES runs (run_id)   -- the run that carried it over
);

-- What the ledger is about: the lake it was created for (its identity, not only its address).
CREATE TABLE ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- How a model's part of a run was recorded: 'current' moves its clues' marks; 'historical' (a
-- back-fill on data older than the model's last recorded run) keeps the evidence, marks nothing.
ALTER TABLE run_models ADD COLUMN kind TEXT NOT NULL DEFAULT 'current';

-- A fingerprint of a sighting's evidence (the content of its rows), so a dismissed clue whose
-- evidence changes on newer data comes back to triage (复现) instead of staying dismissed.
ALTER TABLE sightings ADD COLUMN evidence_key TEXT;
