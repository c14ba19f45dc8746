-- The clue ledger: runs, the clues they found, and every step taken on a clue.
-- Facts are appended, never changed: sightings and events refuse UPDATE and DELETE.

CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,          -- time-ordered (R<yyyymmddHHMMSS>-<salt>)
    as_of       TEXT NOT NULL,             -- the date the data describes
    started_at  TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    lake        TEXT NOT NULL,             -- where _runs/<run_id>/ keeps the evidence
    models      INTEGER NOT NULL,
    failed      INTEGER NOT NULL
);

CREATE TABLE run_models (
    run_id    TEXT NOT NULL REFERENCES runs (run_id),
    model     TEXT NOT NULL,
    version   TEXT NOT NULL,               -- BLAKE3 of the model file
    params    TEXT NOT NULL,               -- JSON [[name, value], …]
    snapshots TEXT NOT NULL,               -- JSON {dataset: snapshot}
    evidence  TEXT,                        -- Parquet file in _runs/<run_id>/
    rows      INTEGER NOT NULL,
    clues     INTEGER NOT NULL,
    error     TEXT,                        -- a failed model's clues are left as they were
    PRIMARY KEY (run_id, model)
);

CREATE TABLE clues (
    clue_id   TEXT PRIMARY KEY,            -- hash of model id and entity key: stable across runs and edits
    model     TEXT NOT NULL,
    entity    TEXT NOT NULL,
    title     TEXT NOT NULL,
    area      TEXT NOT NULL,
    domain    TEXT NOT NULL,
    severity  TEXT NOT NULL,
    first_run TEXT NOT NULL REFERENCES runs (run_id)
);
CREATE INDEX clues_model ON clues (model);

-- what each run saw of a clue: new, ongoing, reopened, or resolved (its model no longer returns it)
CREATE TABLE sightings (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id    TEXT NOT NULL REFERENCES runs (run_id),
    clue_id   TEXT NOT NULL REFERENCES clues (clue_id),
    mark      TEXT NOT NULL CHECK (mark IN ('new', 'ongoing', 'reopened', 'resolved')),
    unit      TEXT,
    amount    REAL,
    rows      TEXT,                        -- JSON row numbers in the run's evidence file
    UNIQUE (run_id, clue_id)
);
CREATE INDEX sightings_clue ON sightings (clue_id, seq);

-- the workflow: who did what to a clue, when and why; the current state is derived from these
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    clue_id TEXT NOT NULL REFERENCES clues (clue_id),
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    data    TEXT NOT NULL DEFAULT '{}',    -- JSON, by kind
    reason  TEXT
);
CREATE INDEX events_clue ON events (clue_id, seq);

CREATE TRIGGER sightings_append_only_u BEFORE UPDATE ON sightings BEGIN SELECT RAISE(ABORT, 'sightings are append-only'); END;
CREATE TRIGGER sightings_append_only_d BEFORE DELETE ON sightings BEGIN SELECT RAISE(ABORT, 'sightings are append-only'); END;
CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_d BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
