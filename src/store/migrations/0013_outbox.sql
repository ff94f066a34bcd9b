-- Issue 11: the outbox. Every message scudo sends (digests now; campaigns, notices and webhooks
-- later) is a row here before it is sent, keyed by an idempotency key, and is marked sent only
-- once the server accepted it. A key already sent is not sent again; a pending or failed one is
-- retried by the next run. The payload is the exact message, so a retry never needs the caller.
CREATE TABLE IF NOT EXISTS outbox (
    key          VARCHAR PRIMARY KEY,     -- digest: 'digest/<template>/<as-of>/<recipient>'
    kind         VARCHAR NOT NULL,        -- digest
    recipient    VARCHAR NOT NULL,        -- the envelope recipient (an email address)
    sender       VARCHAR NOT NULL,        -- the envelope sender
    subject      VARCHAR NOT NULL,
    payload      BLOB NOT NULL,           -- the RFC 5322 message as sent
    message_id   VARCHAR NOT NULL,        -- the Message-ID header of the payload, without <>
    status       VARCHAR NOT NULL,        -- pending, sent or failed
    attempts     BIGINT NOT NULL DEFAULT 0,
    error_class  VARCHAR,                 -- connect, tls, auth, sender, recipient, transient, message
    error        VARCHAR,                 -- the last failure, as reported
    created_at   TIMESTAMP NOT NULL,      -- UTC
    updated_at   TIMESTAMP NOT NULL,      -- UTC
    sent_at      TIMESTAMP                -- UTC, when the server accepted it
);
