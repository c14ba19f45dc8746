-- What a subscriber was to be told by a mail that could not be built (an address the settings
-- should have refused, a workbook): pending until a mail carrying it is queued, so a fixed
-- subscriber's next digest has it. Nothing a subscriber should hear is lost to one bad mail.
CREATE TABLE digest_pending (
    subscriber TEXT NOT NULL,
    clue_id    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    outbox_id  INTEGER NOT NULL REFERENCES outbox (id),
    PRIMARY KEY (subscriber, clue_id, reason)
);
