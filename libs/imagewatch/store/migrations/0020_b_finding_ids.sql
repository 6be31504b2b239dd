-- Which images have a finding known under an id (advisory id or alias), in
-- digest order: /v1/findings?cve= reads one page of it by index whatever the
-- number of images holding the id (a GIN index on findings.ids cannot give
-- digest order, so a CVE in many images meant sorting all of them).
-- Kept by triggers on findings, so every write path (push match, re-match,
-- retention's cascade delete) keeps it true.
CREATE TABLE finding_ids (
    id           text NOT NULL,
    image_digest text NOT NULL,
    key          text NOT NULL,
    PRIMARY KEY (id, image_digest, key)
);
CREATE INDEX finding_ids_image ON finding_ids (image_digest, key);

INSERT INTO finding_ids (id, image_digest, key)
SELECT DISTINCT x, image_digest, key FROM findings, unnest(ids) AS x;

CREATE FUNCTION finding_ids_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finding_ids (id, image_digest, key)
    SELECT DISTINCT x, NEW.image_digest, NEW.key FROM unnest(NEW.ids) AS x
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION finding_ids_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM finding_ids WHERE image_digest = OLD.image_digest AND key = OLD.key
        AND NOT (id = ANY(NEW.ids) AND OLD.image_digest = NEW.image_digest AND OLD.key = NEW.key);
    INSERT INTO finding_ids (id, image_digest, key)
    SELECT DISTINCT x, NEW.image_digest, NEW.key FROM unnest(NEW.ids) AS x
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION finding_ids_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM finding_ids WHERE image_digest = OLD.image_digest AND key = OLD.key;
    RETURN NULL;
END $$;

CREATE TRIGGER findings_ids_insert AFTER INSERT ON findings
    FOR EACH ROW EXECUTE FUNCTION finding_ids_insert();
CREATE TRIGGER findings_ids_update AFTER UPDATE OF ids, image_digest, key ON findings
    FOR EACH ROW WHEN (OLD.ids IS DISTINCT FROM NEW.ids OR OLD.image_digest <> NEW.image_digest OR OLD.key <> NEW.key)
    EXECUTE FUNCTION finding_ids_update();
CREATE TRIGGER findings_ids_delete AFTER DELETE ON findings
    FOR EACH ROW EXECUTE FUNCTION finding_ids_delete();
