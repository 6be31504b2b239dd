-- Per-installation values every replica shares (the secret fingerprint key).
CREATE TABLE installation (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
