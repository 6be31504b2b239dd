-- The dashboard: every image a tag pointed at and since when, so the trend of
-- open findings can be drawn from scan history. Kept by a trigger on
-- image_tags (every writer of tags is covered without touching it);
-- the tags known before this migration start at their last update.
CREATE TABLE tag_history (
    registry   text NOT NULL,
    repository text NOT NULL,
    tag        text NOT NULL,
    platform   text NOT NULL DEFAULT '',
    digest     text NOT NULL,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry, repository, tag, platform, since)
);
CREATE INDEX tag_history_since ON tag_history (since);

CREATE FUNCTION tag_history_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.digest IS DISTINCT FROM OLD.digest THEN
        INSERT INTO tag_history (registry, repository, tag, platform, digest, since)
        VALUES (NEW.registry, NEW.repository, NEW.tag, NEW.platform, NEW.digest, clock_timestamp())
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER image_tags_history AFTER INSERT OR UPDATE OF digest ON image_tags
    FOR EACH ROW EXECUTE FUNCTION tag_history_record();

INSERT INTO tag_history (registry, repository, tag, platform, digest, since)
SELECT registry, repository, tag, platform, digest, updated_at FROM image_tags
ON CONFLICT DO NOTHING;
