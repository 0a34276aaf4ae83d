-- Webhook (or polled) events, once each, in commit order; and small named markers.
CREATE TABLE webhook_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    delivery_id  TEXT,
    received_at  DOUBLE PRECISION NOT NULL,
    created_at   TEXT,
    chat_id      TEXT,
    message_id   TEXT,
    event_type   TEXT NOT NULL,
    direction    TEXT,
    source       TEXT NOT NULL CHECK (source IN ('webhook', 'polled')),
    inbox_state  SMALLINT,          -- NULL: not an inbox item; 0: unread inbound message; 1: read
    event_json   TEXT NOT NULL,
    raw_json     TEXT NOT NULL
);
CREATE UNIQUE INDEX webhook_events_delivery ON webhook_events (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX webhook_events_chat ON webhook_events (chat_id, seq);
CREATE INDEX webhook_events_message ON webhook_events (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX webhook_events_unread ON webhook_events (seq) WHERE inbox_state = 0;
-- The newest seq ever committed: survives pruning, and (unlike the identity sequence) never
-- runs ahead of what readers can see, so it is a safe starting cursor.
CREATE TABLE webhook_events_top (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL
);
INSERT INTO webhook_events_top (id, seq) VALUES (1, 0);
CREATE TABLE event_markers (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
