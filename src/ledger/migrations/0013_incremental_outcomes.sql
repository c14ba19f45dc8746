-- A model declared `[incremental]` whose growing table was appended to is evaluated over the
-- keys the new rows touch only, and its other rows are carried from its last result.
-- `increment` records what was evaluated (JSON: the run updated, table, key, keys, new rows);
-- `full_from` names the run whose full computation the result rests on (a replay of the result
-- names it as the run that computed it).
ALTER TABLE run_models ADD COLUMN increment TEXT;
ALTER TABLE run_models ADD COLUMN full_from TEXT;
-- incremental updates since that full computation (carried along by a replay): after
-- `SWEEP_UPDATES` of them the model is computed in full again
ALTER TABLE run_models ADD COLUMN updates INTEGER NOT NULL DEFAULT 0;
