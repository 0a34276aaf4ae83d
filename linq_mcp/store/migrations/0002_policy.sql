-- The safety policy: its secret, sends (held or recorded), recipients, known contacts,
-- spent confirmation nonces and remembered declines. Handles only as keyed hashes.
CREATE TABLE policy_secret (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    secret  BYTEA NOT NULL
);
CREATE TABLE policy_sends (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          DOUBLE PRECISION NOT NULL,
    held_until  DOUBLE PRECISION,
    send_key    TEXT UNIQUE
);
CREATE INDEX policy_sends_at ON policy_sends (at);
CREATE TABLE policy_send_recipients (
    handle_key  TEXT NOT NULL,
    at          DOUBLE PRECISION NOT NULL,
    send_id     BIGINT
);
CREATE INDEX policy_send_recipients_key_at ON policy_send_recipients (handle_key, at);
CREATE INDEX policy_send_recipients_send ON policy_send_recipients (send_id);
CREATE TABLE policy_known_contacts (
    handle_key     TEXT PRIMARY KEY,
    first_sent_at  DOUBLE PRECISION NOT NULL
);
CREATE TABLE policy_used_nonces (
    nonce       TEXT PRIMARY KEY,
    expires_at  DOUBLE PRECISION NOT NULL
);
CREATE TABLE policy_declines (
    call_key     TEXT PRIMARY KEY,
    declined_at  DOUBLE PRECISION NOT NULL
);
