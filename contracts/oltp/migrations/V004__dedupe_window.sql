-- The stream processor remembers an event id for a window (the events topic's retention: a
-- record can only be delivered again while Kafka still holds it), then forgets it, so the
-- dedupe table stays the size of that window instead of growing with every event.

CREATE INDEX processed_events_processed_at ON realtime.processed_events (processed_at);

-- When each housekeeping task of the real-time tables last ran. A processor takes a task's
-- turn by moving its time forward (skipping the row if another processor holds it), so
-- concurrent batches never do the same work twice or wait for each other.
CREATE TABLE realtime.housekeeping (
    task        text        PRIMARY KEY,
    last_run_at timestamptz NOT NULL
);

INSERT INTO realtime.housekeeping (task, last_run_at) VALUES ('forget_processed_events', '-infinity');
