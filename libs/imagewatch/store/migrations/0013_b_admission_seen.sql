-- Images the admission webhook has seen in a pod it judged: a running (or
-- starting) workload uses them. Feeds the "in use" tie-breaker of the
-- fix-first list (docs/prioritisation.md).
CREATE TABLE admission_seen (
    digest     text PRIMARY KEY,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    namespace  text NOT NULL DEFAULT ''
);
