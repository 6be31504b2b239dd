-- The matcher asks for (id, digest) of candidate advisories; answer it from the index alone.
CREATE INDEX advisories_id_digest ON advisories (id) INCLUDE (digest, withdrawn);
