-- Job runs: every run of a job — from the scheduler or `searchlight pipeline` — with what
-- started it, the cron tick it ran for, its outcome and counts. A job that fails before any
-- model runs (an ingest that times out) has a job run and no model run.
CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,       -- the schedule's name; `pipeline` from the command line
    trigger     TEXT NOT NULL,       -- schedule | catch-up | manual
    tick        TEXT,                -- the cron tick it ran for (RFC 3339, UTC)
    as_of       TEXT NOT NULL,
    started_at  TEXT NOT NULL,       -- RFC 3339, UTC
    ended_at    TEXT,                -- NULL while it runs (or if the process died)
    outcome     TEXT,                -- ok | partial | failed | timed_out
    error       TEXT,
    run_id      TEXT,                -- the model run it recorded, once it got that far
    connectors  INTEGER NOT NULL DEFAULT 0,
    connectors_failed INTEGER NOT NULL DEFAULT 0,
    mails       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX job_runs_by_job ON job_runs (job, id);

-- The outbox: every mail, whole (RFC 5322 bytes), queued in the transaction that records the
-- run it reports, then sent with retries. The Message-ID is fixed when the mail is queued and
-- kept across retries.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,   -- digest | alert
    recipient       TEXT NOT NULL,   -- the subscriber's name, or `admin`
    address         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    run_id          TEXT,
    job_run         INTEGER,
    clues           INTEGER NOT NULL DEFAULT 0,
    message         BLOB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued',   -- queued | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,   -- RFC 3339, UTC
    last_error      TEXT,
    queued_at       TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- What each subscriber has been told: one row per (subscriber, clue, reason), written with the
-- mail that tells it — never the same clue twice for the same reason.
CREATE TABLE digest_items (
    subscriber TEXT NOT NULL,
    clue_id    TEXT NOT NULL,
    reason     TEXT NOT NULL,        -- new | reopened:<run> | rectification_failed:<close seq> | overdue:<due>
    outbox_id  INTEGER NOT NULL REFERENCES outbox (id),
    PRIMARY KEY (subscriber, clue_id, reason)
);
