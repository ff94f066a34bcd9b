-- scudo schema: who may use `scudo serve` (users, hashed API tokens) and what people wrote about
-- customers (notes, tags). The activity log is a file beside the database (audit.jsonl), so that
-- a server holding the database read-only can still append to it.

CREATE TABLE IF NOT EXISTS users (
    name        VARCHAR PRIMARY KEY,
    role        VARCHAR NOT NULL,          -- admin, analyst or viewer
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS api_tokens (
    token_id    VARCHAR PRIMARY KEY,       -- the public part of the token (scudo_<token_id>_<secret>)
    user_name   VARCHAR,
    role        VARCHAR NOT NULL,
    hash        VARCHAR NOT NULL,          -- argon2id PHC string of the whole token
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

CREATE TABLE IF NOT EXISTS customer_notes (
    note_id     BIGINT PRIMARY KEY,
    customer_id VARCHAR NOT NULL,
    body        VARCHAR NOT NULL,
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP
);

CREATE TABLE IF NOT EXISTS customer_tags (
    customer_id VARCHAR NOT NULL,
    tag         VARCHAR NOT NULL,
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
