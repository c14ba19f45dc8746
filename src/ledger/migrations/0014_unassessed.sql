-- What a model could not assess, by what it lacks (JSON: words → how many, `{"缺投标截止时间": 12}`),
-- from the rows it returned with an `unassessed` reason; NULL when it assessed everything. Such a
-- model marks what it found as seen and resolves none of the clues of what it could not assess.
ALTER TABLE run_models ADD COLUMN unassessed TEXT;
