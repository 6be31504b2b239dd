-- Scan requests Harbor made through the Pluggable Scanner Adapter API
-- (/harbor/api/v1/scan). The artifact is scanned by the normal pipeline; the
-- report is read from the image's stages and findings. Harbor's pull
-- authorization is never stored here (it travels sealed through a NATS KV
-- bucket in memory with a TTL). ``error`` is set when the fetch of the
-- artifact was given up (dead-lettered).
CREATE TABLE harbor_scans (
    id           text PRIMARY KEY,
    registry     text NOT NULL,
    repository   text NOT NULL,
    digest       text NOT NULL,
    tag          text NOT NULL DEFAULT '',
    mime_type    text NOT NULL DEFAULT '',
    requested_at timestamptz NOT NULL DEFAULT now(),
    error        text,
    failed_at    timestamptz
);
CREATE INDEX harbor_scans_digest ON harbor_scans (digest);
