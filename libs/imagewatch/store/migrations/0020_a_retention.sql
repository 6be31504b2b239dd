-- Retention (issue 16): images the registry no longer serves are marked gone
-- and deleted after [retention] gone_after_days; fleet-query indexes for a
-- year of pushes (bench/fleet_queries.py).
ALTER TABLE images ADD COLUMN gone_at timestamptz;      -- NULL: served (or not checked yet)
ALTER TABLE images ADD COLUMN checked_at timestamptz;   -- last registry check of an untagged image
ALTER TABLE image_tags ADD COLUMN checked_at timestamptz;  -- last registry check of the tag
CREATE INDEX images_gone ON images (gone_at) WHERE gone_at IS NOT NULL;
CREATE INDEX images_unchecked ON images (checked_at NULLS FIRST) WHERE gone_at IS NULL;
CREATE INDEX image_tags_checked ON image_tags (checked_at NULLS FIRST);

-- history rows aged out by time
CREATE INDEX scan_failures_failed_at ON scan_failures (failed_at);
CREATE INDEX matcher_rematches_matched_at ON matcher_rematches (matched_at);
CREATE INDEX notifier_outbox_created ON notifier_outbox (created_at) WHERE state <> 'pending';
CREATE INDEX harbor_scans_requested_at ON harbor_scans (requested_at);

-- /v1/images filters: ?tag= and ?repository=registry/repo, ?since=
CREATE INDEX image_tags_tag ON image_tags (tag, digest);
CREATE INDEX image_repositories_full ON image_repositories ((registry || '/' || repository), digest);
CREATE INDEX images_first_seen ON images (first_seen, digest);
