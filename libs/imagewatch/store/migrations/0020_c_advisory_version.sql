-- A counter bumped in the transaction of every change to the advisory store
-- (records upserted, a source's sync recorded): what is derived from the whole
-- store (per-ecosystem coverage counts) is cached per value of it by the
-- matcher instead of being counted again for every image.
CREATE TABLE advisory_store_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint  NOT NULL DEFAULT 0
);
INSERT INTO advisory_store_version (one, version) VALUES (true, 0);
