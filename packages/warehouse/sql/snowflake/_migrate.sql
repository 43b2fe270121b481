-- Tables of the public SQL contract, Snowflake dialect. Minutes are UTC wall-clock TIMESTAMP_NTZ,
-- second 0. A minute that received events after its claim appears as more than one batch: sum
-- `count`. Snowflake records but does not enforce PRIMARY KEY: the loader's MERGE on
-- load_batches is what keeps batch ids unique. `loaded_at` is set by the loader (SYSDATE(), UTC).
CREATE TABLE IF NOT EXISTS load_batches (
  batch_id     VARCHAR NOT NULL PRIMARY KEY,
  site         VARCHAR NOT NULL,
  minute       TIMESTAMP_NTZ NOT NULL,
  counter_rows NUMBER(38,0) NOT NULL,
  visitor_rows NUMBER(38,0) NOT NULL,
  loaded_at    TIMESTAMP_NTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS event_counts (
  minute    TIMESTAMP_NTZ NOT NULL,
  site      VARCHAR NOT NULL,
  event     VARCHAR NOT NULL,
  dimension VARCHAR NOT NULL,
  value     VARCHAR NOT NULL,
  count     NUMBER(38,0) NOT NULL,
  batch_id  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS unique_visitors (
  minute    TIMESTAMP_NTZ NOT NULL,
  site      VARCHAR NOT NULL,
  dimension VARCHAR NOT NULL,
  value     VARCHAR NOT NULL,
  visitors  NUMBER(38,0) NOT NULL,
  sketch    BINARY NOT NULL,
  batch_id  VARCHAR NOT NULL,
  hll       VARIANT
);
-- `hll` is the sketch as an HLL_EXPORT object (precision 12, down-sampled exactly from Redis's
-- precision 14), so visitors over any window are
-- HLL_ESTIMATE(HLL_COMBINE(HLL_IMPORT(hll))). Sparse objects for small sketches, dense (4,096
-- ranks) past about 1,300 non-zero registers. NULL only on rows loaded before this column.
-- Our hash is Redis's, not Snowflake's: combine these only with each other, never with
-- HLL_ACCUMULATE states built inside Snowflake.
ALTER TABLE unique_visitors ADD COLUMN IF NOT EXISTS hll VARIANT;
-- Goals added on the dashboard (next to those of GOALS): an event name or a page path per row.
CREATE TABLE IF NOT EXISTS dashboard_goals (
  site     VARCHAR NOT NULL,
  goal     VARCHAR NOT NULL,
  added_at TIMESTAMP_NTZ NOT NULL
);
