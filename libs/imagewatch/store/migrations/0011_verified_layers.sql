-- A layer's diff_id comes from the image config, which the pusher writes. A
-- stage that read a blob and found its uncompressed content hashing to the
-- claimed diff_id records the (blob digest, diff_id) pair here; cached
-- per-diff_id results and "already analysed" skips count only for a verified
-- pair, so a config that lies about a diff_id can neither poison nor borrow
-- another layer's results.
CREATE TABLE layer_verified (
    digest      text NOT NULL,
    diff_id     text NOT NULL,
    verified_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (digest, diff_id)
);

-- What a finished stage could not read (analyser errors, skipped files): a
-- stage done with problems makes the scan "partial".
ALTER TABLE scan_stages ADD COLUMN problems text[] NOT NULL DEFAULT '{}';
