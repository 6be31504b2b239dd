-- Which advisory data each image was matched against (matcher.coverage), written at every match.
CREATE TABLE image_coverage (
    image_digest text PRIMARY KEY REFERENCES images (digest) ON DELETE CASCADE,
    coverage     jsonb NOT NULL,
    not_covered  text[] NOT NULL DEFAULT '{}',
    computed_at  timestamptz NOT NULL DEFAULT now()
);
