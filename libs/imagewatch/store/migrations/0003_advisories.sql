-- Advisories (OSV documents), the packages they name, and the sources that feed them.
CREATE TABLE advisories (
    id         text PRIMARY KEY,
    modified   text NOT NULL DEFAULT '',
    withdrawn  text NOT NULL DEFAULT '',
    source     text NOT NULL,
    digest     bytea NOT NULL,
    doc        jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX advisories_source ON advisories (source);

-- (ecosystem as published, e.g. "PyPI" or "Debian:12"; normalised package name).
-- Withdrawn advisories have no rows here, so they never match.
CREATE TABLE advisory_packages (
    ecosystem   text NOT NULL,
    name        text NOT NULL,
    advisory_id text NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, advisory_id)
);
CREATE INDEX advisory_packages_advisory ON advisory_packages (advisory_id);

CREATE TABLE advisory_sources (
    name        text PRIMARY KEY,
    fingerprint text NOT NULL DEFAULT '',
    last_sync   timestamptz,
    records     integer NOT NULL DEFAULT 0
);
