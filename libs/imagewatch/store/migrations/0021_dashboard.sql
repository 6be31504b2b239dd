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

-- Findings counted per image, severity and day first seen (with how many have
-- a fix), so the fleet table and the trend read thousands of rows instead of
-- every finding. Kept by statement triggers on findings: every statement
-- recounts the images it touched.
CREATE TABLE finding_counts (
    image_digest text NOT NULL,
    severity     text NOT NULL,
    day          date NOT NULL,
    n            integer NOT NULL,
    fixable      integer NOT NULL,
    PRIMARY KEY (image_digest, severity, day)
);

CREATE FUNCTION finding_counts_recount(digests text[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM finding_counts WHERE image_digest = ANY(digests);
    INSERT INTO finding_counts (image_digest, severity, day, n, fixable)
    SELECT image_digest, severity, first_seen::date, count(*),
           count(*) FILTER (WHERE cardinality(fixed_versions) > 0)
    FROM findings WHERE image_digest = ANY(digests) GROUP BY 1, 2, 3
    ON CONFLICT (image_digest, severity, day) DO UPDATE SET n = EXCLUDED.n, fixable = EXCLUDED.fixable;
$$;

CREATE FUNCTION finding_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM finding_counts_recount(ARRAY(SELECT DISTINCT image_digest FROM new_rows));
    RETURN NULL;
END
$$;

CREATE FUNCTION finding_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM finding_counts_recount(ARRAY(SELECT DISTINCT image_digest FROM old_rows));
    RETURN NULL;
END
$$;

CREATE FUNCTION finding_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM finding_counts_recount(ARRAY(SELECT image_digest FROM new_rows UNION SELECT image_digest FROM old_rows));
    RETURN NULL;
END
$$;

CREATE TRIGGER findings_counts_insert AFTER INSERT ON findings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_counts_inserted();
CREATE TRIGGER findings_counts_delete AFTER DELETE ON findings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_counts_deleted();
CREATE TRIGGER findings_counts_update AFTER UPDATE ON findings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_counts_updated();

INSERT INTO finding_counts (image_digest, severity, day, n, fixable)
SELECT image_digest, severity, first_seen::date, count(*), count(*) FILTER (WHERE cardinality(fixed_versions) > 0)
FROM findings GROUP BY 1, 2, 3;
