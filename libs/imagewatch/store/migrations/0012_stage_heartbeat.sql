-- The last sign of life of a running stage: stamped when the stage starts
-- running and by every heartbeat of the message being handled. A running
-- stage whose heartbeat is older than the stall deadline shows "stalled".
ALTER TABLE scan_stages ADD COLUMN heartbeat_at timestamptz;
