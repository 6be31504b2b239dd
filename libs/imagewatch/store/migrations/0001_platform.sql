-- Images, tags, layers and per-stage scan status.
CREATE TABLE images (
    digest        text PRIMARY KEY,
    media_type    text NOT NULL,
    platform      text NOT NULL DEFAULT '',
    config_digest text NOT NULL DEFAULT '',
    config        jsonb,
    index_digest  text NOT NULL DEFAULT '',
    os            jsonb,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE image_repositories (
    digest     text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    registry   text NOT NULL,
    repository text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (digest, registry, repository)
);
CREATE INDEX image_repositories_repo ON image_repositories (repository, registry);

-- The current image of each tag per platform, and the one before it.
CREATE TABLE image_tags (
    registry        text NOT NULL,
    repository      text NOT NULL,
    tag             text NOT NULL,
    platform        text NOT NULL DEFAULT '',
    digest          text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    index_digest    text NOT NULL DEFAULT '',
    previous_digest text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry, repository, tag, platform)
);
CREATE INDEX image_tags_digest ON image_tags (digest);

CREATE TABLE layers (
    digest     text PRIMARY KEY,
    diff_id    text NOT NULL,
    size       bigint NOT NULL,
    media_type text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX layers_diff_id ON layers (diff_id);

CREATE TABLE image_layers (
    image_digest text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    position     int  NOT NULL,
    layer_digest text NOT NULL REFERENCES layers(digest),
    diff_id      text NOT NULL,
    PRIMARY KEY (image_digest, position)
);

-- Which scanner version of which stage has analysed a layer.
CREATE TABLE stage_versions (
    stage      text PRIMARY KEY,
    version    text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE layer_scans (
    diff_id    text NOT NULL,
    stage      text NOT NULL,
    version    text NOT NULL,
    scanned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (diff_id, stage, version)
);

CREATE TABLE scan_stages (
    image_digest text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    stage        text NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    started_at   timestamptz,
    finished_at  timestamptz,
    reason       text,
    attempts     int NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_digest, stage)
);

-- Failures before an image is known (bad manifest, unreachable registry).
CREATE TABLE scan_failures (
    id          bigserial PRIMARY KEY,
    reference   text NOT NULL,
    stage       text NOT NULL,
    reason      text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
