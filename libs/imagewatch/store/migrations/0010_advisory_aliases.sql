-- The known severity of each advisory under its own id and every alias, so a
-- finding from a record that carries none (PYSEC, Alpine secdb, DSA/DLA ...)
-- can take it from another record of the same vulnerability (GHSA, Ubuntu,
-- RustSec ...). Maintained by upsert_advisories: an advisory's rows are
-- replaced whenever it is rewritten and dropped when it is withdrawn; records
-- with an unknown severity have none. Severity needs Python (CVSS scoring), so
-- this migration cannot fill it: stores written before it are filled by
-- ``store.advisories.backfill_severities`` or as their records are rewritten.
CREATE TABLE advisory_severities (
    vuln_id     text NOT NULL,
    advisory_id text NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    score       double precision,
    rating      text NOT NULL,
    PRIMARY KEY (vuln_id, advisory_id)
);
CREATE INDEX advisory_severities_advisory ON advisory_severities (advisory_id);
