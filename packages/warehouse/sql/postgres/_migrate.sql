-- Tables of the public SQL contract, PostgreSQL dialect. Minutes are UTC, second 0.
-- A minute that received events after its claim appears as more than one batch: sum `count`.
CREATE TABLE IF NOT EXISTS load_batches (
  batch_id     TEXT PRIMARY KEY,
  site         TEXT NOT NULL,
  minute       TIMESTAMP NOT NULL,
  counter_rows INTEGER NOT NULL,
  visitor_rows INTEGER NOT NULL,
  loaded_at    TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
CREATE TABLE IF NOT EXISTS event_counts (
  minute    TIMESTAMP NOT NULL,
  site      TEXT NOT NULL,
  event     TEXT NOT NULL,
  dimension TEXT NOT NULL,
  value     TEXT NOT NULL,
  count     BIGINT NOT NULL,
  batch_id  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS event_counts_site_minute ON event_counts (site, minute);
CREATE TABLE IF NOT EXISTS unique_visitors (
  minute    TIMESTAMP NOT NULL,
  site      TEXT NOT NULL,
  dimension TEXT NOT NULL,
  value     TEXT NOT NULL,
  visitors  BIGINT NOT NULL,
  sketch    BYTEA NOT NULL,
  batch_id  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS unique_visitors_site_minute ON unique_visitors (site, minute);
