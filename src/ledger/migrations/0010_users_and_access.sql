-- Users of the workbench, their teams' units, API tokens, sessions, and the access log.

-- A user: a role, a password (argon2, PHC string), whether full ID and account numbers may be
-- shown to them, and the team whose units a team member works.
CREATE TABLE users (
    name        TEXT PRIMARY KEY,
    display     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'team', 'leader')),
    team        TEXT,
    password    TEXT NOT NULL,
    show_ids    INTEGER NOT NULL DEFAULT 0,
    email       TEXT,
    created_at  TEXT NOT NULL,
    disabled_at TEXT
);

-- The units (codes of the units directory) a team is assigned; their subordinates come with them.
CREATE TABLE team_units (
    team      TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    PRIMARY KEY (team, unit_code)
);

-- API tokens for scripts: only a hash of the token is kept.
CREATE TABLE api_tokens (
    hash       TEXT PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users (name),
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Browser sessions: a hash of the cookie's value, the form token, and when it expires.
CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users (name),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Every read of personal data, every change and every refusal: append-only.
CREATE TABLE access_log (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    who     TEXT NOT NULL,
    via     TEXT NOT NULL,
    address TEXT,
    action  TEXT NOT NULL,
    object  TEXT,
    outcome TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX access_log_who ON access_log (who, seq);
CREATE INDEX access_log_at ON access_log (at);
CREATE TRIGGER access_log_append_only_u BEFORE UPDATE ON access_log BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_append_only_d BEFORE DELETE ON access_log BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
