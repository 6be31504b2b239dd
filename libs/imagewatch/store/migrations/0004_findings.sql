-- Vulnerability findings per image, and what changed per repository/tag.
CREATE TABLE findings (
    image_digest   text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    key            text NOT NULL,
    advisory_id    text NOT NULL,
    ids            text[] NOT NULL,
    ecosystem      text NOT NULL,
    package        text NOT NULL,
    version        text NOT NULL,
    fixed_versions text[] NOT NULL DEFAULT '{}',
    severity       text NOT NULL,
    score          double precision,
    finding        jsonb NOT NULL,
    first_seen     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_digest, key)
);
CREATE INDEX findings_ids ON findings USING gin (ids);
CREATE INDEX findings_severity ON findings (severity);

CREATE TABLE tag_results (
    registry     text NOT NULL,
    repository   text NOT NULL,
    tag          text NOT NULL,
    platform     text NOT NULL DEFAULT '',
    digest       text NOT NULL,
    previous     text,
    new_ids      text[] NOT NULL DEFAULT '{}',
    fixed_ids    text[] NOT NULL DEFAULT '{}',
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry, repository, tag, platform)
);
