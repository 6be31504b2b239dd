-- Per-layer analyser results (the cache) and each image's composed package list.
CREATE TABLE layer_results (
    diff_id     text NOT NULL,
    analyser    text NOT NULL,
    version     int  NOT NULL,
    result      jsonb NOT NULL,
    analysed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (diff_id, analyser, version)
);

CREATE TABLE image_packages (
    image_digest text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    position     int  NOT NULL,
    ecosystem    text NOT NULL,
    name         text NOT NULL,
    version      text NOT NULL,
    package      jsonb NOT NULL,
    PRIMARY KEY (image_digest, position)
);
CREATE INDEX image_packages_name ON image_packages (ecosystem, name);

-- Why a layer could not be read (tar bomb, path escape, bad compression).
CREATE TABLE layer_errors (
    diff_id   text NOT NULL,
    stage     text NOT NULL,
    reason    text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (diff_id, stage)
);
