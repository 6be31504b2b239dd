-- Secret and misconfiguration findings: fingerprints and redacted previews only.
CREATE TABLE secret_findings (
    image_digest text NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    key          text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('secret', 'misconfiguration')),
    rule_id      text NOT NULL,
    severity     text NOT NULL,
    path         text NOT NULL DEFAULT '',
    line         int  NOT NULL DEFAULT 0,
    layer        text NOT NULL DEFAULT '',
    layer_index  int,
    removed_in   int,
    fingerprint  text NOT NULL DEFAULT '',
    finding      jsonb NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_digest, key)
);
CREATE INDEX secret_findings_fingerprint ON secret_findings (fingerprint);

-- Per-layer secret results, cached by (diff_id, scanner version).
CREATE TABLE layer_secret_results (
    diff_id     text NOT NULL,
    version     text NOT NULL,
    result      jsonb NOT NULL,
    analysed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (diff_id, version)
);
