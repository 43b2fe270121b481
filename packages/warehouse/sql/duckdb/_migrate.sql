-- Tables of the public SQL contract, DuckDB dialect. Minutes are UTC, second 0.
-- A minute that received events after its claim appears as more than one batch: sum `count`.
CREATE TABLE IF NOT EXISTS load_batches (
  batch_id     VARCHAR PRIMARY KEY,
  site         VARCHAR NOT NULL,
  minute       TIMESTAMP NOT NULL,
  counter_rows INTEGER NOT NULL,
  visitor_rows INTEGER NOT NULL,
  loaded_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS event_counts (
  minute    TIMESTAMP NOT NULL,
  site      VARCHAR NOT NULL,
  event     VARCHAR NOT NULL,
  dimension VARCHAR NOT NULL,
  value     VARCHAR NOT NULL,
  count     BIGINT NOT NULL,
  batch_id  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS unique_visitors (
  minute    TIMESTAMP NOT NULL,
  site      VARCHAR NOT NULL,
  dimension VARCHAR NOT NULL,
  value     VARCHAR NOT NULL,
  visitors  BIGINT NOT NULL,
  sketch    BLOB NOT NULL,
  batch_id  VARCHAR NOT NULL
);
