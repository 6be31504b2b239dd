-- The notifier: what was alerted per repository tag, the stage messages seen per
-- image, and the outbox of rendered chat messages waiting to be delivered.

-- The no-repeat rule: the highest severity alerted per item of a repository tag.
CREATE TABLE notifier_state (
    registry    text NOT NULL,
    repository  text NOT NULL,
    tag         text NOT NULL,
    item_key    text NOT NULL,
    severity    text NOT NULL,
    alerted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry, repository, tag, item_key)
);

-- Stage results announced to the notifier for an image still waiting for the
-- other stage (push events alert once matcher and secrets are both finished).
CREATE TABLE notifier_inputs (
    image_digest text NOT NULL,
    stage        text NOT NULL,
    new_ids      text[] NOT NULL DEFAULT '{}',
    seen_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_digest, stage)
);

-- One row per rendered request per channel. The channel's URL is a secret kept
-- in configuration: a row names the channel only.
CREATE TABLE notifier_outbox (
    id              bigserial PRIMARY KEY,
    idempotency_key text NOT NULL,
    channel         text NOT NULL,
    kind            text NOT NULL,
    part            int  NOT NULL DEFAULT 0,
    image_digest    text NOT NULL,
    registry        text NOT NULL DEFAULT '',
    repository      text NOT NULL,
    tag             text NOT NULL DEFAULT '',
    reason          text NOT NULL,
    body            bytea NOT NULL,
    headers         jsonb NOT NULL DEFAULT '{}',
    summary         text NOT NULL DEFAULT '',
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        int  NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status     int,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (idempotency_key, channel, part)
);
CREATE INDEX notifier_outbox_due ON notifier_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifier_outbox_state ON notifier_outbox (state, id);
