-- A model whose inputs did not change since its last recorded run (the same model version,
-- parameters, snapshots, and as-of where it reads one) is not executed again: its result is
-- replayed from that run's evidence. `carried_from` names the run that really computed it
-- (a replay of a replay names the first), so a periodic full sweep can bound how long a result
-- is replayed; `engine` is the searchlight version that recorded a run (a new version computes
-- afresh).
ALTER TABLE run_models ADD COLUMN carried_from TEXT;
ALTER TABLE runs ADD COLUMN engine TEXT;
