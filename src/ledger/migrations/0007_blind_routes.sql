-- Routes of a model that could not look for lack of inputs they need (a JSON array of words,
-- `低保资金发放明细路线缺 relief_payments.pay_date`); NULL when every route looked. A model with
-- blind routes marks what it found as seen and resolves nothing.
ALTER TABLE run_models ADD COLUMN blind TEXT;
