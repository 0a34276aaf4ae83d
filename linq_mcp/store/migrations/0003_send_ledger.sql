-- The send ledger: what was done with each idempotency key (pending, unknown, done + result).
CREATE TABLE send_ledger (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'done', 'unknown')),
    result       TEXT,
    at           DOUBLE PRECISION NOT NULL
);
CREATE INDEX send_ledger_at ON send_ledger (at);
