-- The matcher: which images each advisory update re-matched, and what was new,
-- so a redelivered iw.vulndb message republishes the same result instead of
-- finding nothing new the second time.
CREATE TABLE matcher_rematches (
    update_id    text NOT NULL,
    image_digest text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    new_ids      text[] NOT NULL DEFAULT '{}',
    matched_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (update_id, image_digest)
);
CREATE INDEX matcher_rematches_image ON matcher_rematches (image_digest);
