-- The current state of every clue, kept beside the append-only facts it is drawn from so that
-- listings filter, count and page in SQL instead of folding every clue's history per read.
-- Written in the transaction that appends the sightings or events it follows from (a run's
-- record, a workflow step, a run's withdrawal); rebuildable from them at any time
-- (`Ledger::rebuild_clue_state`, run once when this migration is applied). A clue none of whose
-- sightings counts (all in withdrawn runs) has no row.
CREATE TABLE clue_state (
    -- numbered as first projected (as recorded): the last tie-break of every ordering, so each
    -- index below holds small integers and a page can start after any clue
    clue_no     INTEGER PRIMARY KEY,
    clue_id     TEXT NOT NULL UNIQUE REFERENCES clues (clue_id),
    -- copied from `clues` (never changed there) for the filters and the counts
    model       TEXT NOT NULL,
    area        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    sev_rank    INTEGER NOT NULL,           -- 0 high, 1 medium, 2 anything else
    first_order INTEGER NOT NULL,           -- minus the rowid of the run that first found it: newest first
    -- from the latest live sighting
    last_seq    INTEGER NOT NULL,
    last_run    TEXT NOT NULL,
    mark        TEXT NOT NULL,
    -- from the latest live sighting with a unit, and the latest that found it
    unit        TEXT,
    unit_code   TEXT,
    unit_order  TEXT NOT NULL DEFAULT '',   -- the unit, '' for none: the `unit` ordering
    amount_fen  INTEGER,
    amount_order INTEGER NOT NULL DEFAULT 0, -- minus the amount in 分 (0 for none): largest first
    -- the workflow, folded from the events with what later runs say (复现, 整改不实); the flags
    -- that depend on an as-of date (整改逾期, 豁免中) are computed from these when read
    status      TEXT NOT NULL DEFAULT 'pending',
    rectification_failed INTEGER NOT NULL DEFAULT 0,
    rectify_due TEXT,
    excepted_until TEXT,
    last_event  INTEGER NOT NULL DEFAULT 0, -- seq of the latest event (0: none)
    work        TEXT                        -- the folded state as JSON; NULL: no event (待研判)
);
-- one index per ordering, and one per filter that is often narrow, each ending in the
-- ordering (SQLite appends the rowid, `clue_no`)
CREATE INDEX clue_state_severity ON clue_state (sev_rank, first_order);
CREATE INDEX clue_state_amount ON clue_state (amount_order, sev_rank, first_order);
CREATE INDEX clue_state_newest ON clue_state (first_order, sev_rank);
CREATE INDEX clue_state_unit_order ON clue_state (unit_order, sev_rank, first_order);
CREATE INDEX clue_state_status ON clue_state (status, sev_rank, first_order);
CREATE INDEX clue_state_model ON clue_state (model, sev_rank, first_order);
CREATE INDEX clue_state_unit_code ON clue_state (unit_code, sev_rank, first_order);
CREATE INDEX clue_state_unit ON clue_state (unit);
CREATE INDEX clue_state_area ON clue_state (area, sev_rank, first_order);
-- largest amounts first within a status, a model or an area: amounts differ by model (one
-- model's clues can all be larger than another's), so walking the amount ordering to reach
-- one model's can skip most of the ledger
CREATE INDEX clue_state_status_amount ON clue_state (status, amount_order, sev_rank, first_order);
CREATE INDEX clue_state_model_amount ON clue_state (model, amount_order, sev_rank, first_order);
CREATE INDEX clue_state_area_amount ON clue_state (area, amount_order, sev_rank, first_order);
CREATE INDEX clue_state_excepted ON clue_state (excepted_until) WHERE excepted_until IS NOT NULL;
CREATE INDEX clue_state_failed ON clue_state (rectification_failed) WHERE rectification_failed;

-- How many clues are in each combination of what listings filter on, kept by triggers on
-- `clue_state`: counts by status of a million clues without reading them. (Clues under an
-- exception are counted here too; a listing subtracts them, found through their partial index.)
CREATE TABLE clue_counts (
    unit_code TEXT NOT NULL,                -- '' for none
    model     TEXT NOT NULL,
    area      TEXT NOT NULL,
    severity  TEXT NOT NULL,
    status    TEXT NOT NULL,
    mark      TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (unit_code, model, area, severity, status, mark)
) WITHOUT ROWID;

CREATE TRIGGER clue_state_count_i AFTER INSERT ON clue_state BEGIN
    INSERT INTO clue_counts (unit_code, model, area, severity, status, mark, n)
    VALUES (coalesce(NEW.unit_code, ''), NEW.model, NEW.area, NEW.severity, NEW.status, NEW.mark, 1)
    ON CONFLICT (unit_code, model, area, severity, status, mark) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER clue_state_count_d AFTER DELETE ON clue_state BEGIN
    UPDATE clue_counts SET n = n - 1
    WHERE unit_code = coalesce(OLD.unit_code, '') AND model = OLD.model AND area = OLD.area
      AND severity = OLD.severity AND status = OLD.status AND mark = OLD.mark;
    DELETE FROM clue_counts
    WHERE unit_code = coalesce(OLD.unit_code, '') AND model = OLD.model AND area = OLD.area
      AND severity = OLD.severity AND status = OLD.status AND mark = OLD.mark AND n <= 0;
END;
CREATE TRIGGER clue_state_count_u AFTER UPDATE OF unit_code, status, mark ON clue_state
WHEN coalesce(OLD.unit_code, '') <> coalesce(NEW.unit_code, '') OR OLD.status <> NEW.status OR OLD.mark <> NEW.mark
BEGIN
    UPDATE clue_counts SET n = n - 1
    WHERE unit_code = coalesce(OLD.unit_code, '') AND model = OLD.model AND area = OLD.area
      AND severity = OLD.severity AND status = OLD.status AND mark = OLD.mark;
    DELETE FROM clue_counts
    WHERE unit_code = coalesce(OLD.unit_code, '') AND model = OLD.model AND area = OLD.area
      AND severity = OLD.severity AND status = OLD.status AND mark = OLD.mark AND n <= 0;
    INSERT INTO clue_counts (unit_code, model, area, severity, status, mark, n)
    VALUES (coalesce(NEW.unit_code, ''), NEW.model, NEW.area, NEW.severity, NEW.status, NEW.mark, 1)
    ON CONFLICT (unit_code, model, area, severity, status, mark) DO UPDATE SET n = n + 1;
END;

-- each model's clues by the run that first raised them: a model's record (属实率) counts them
-- from this index instead of reading every clue
CREATE INDEX clues_model_first ON clues (model, first_run);

-- what each run did to the clues (JSON {mark: count}), written when it is recorded: the runs
-- page reads it instead of counting a million sightings per run
ALTER TABLE runs ADD COLUMN marks TEXT;
UPDATE runs SET marks = (SELECT json_group_object(mark, n)
                         FROM (SELECT mark, count(*) AS n FROM sightings s WHERE s.run_id = runs.run_id GROUP BY mark));
