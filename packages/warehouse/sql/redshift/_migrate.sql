-- Tables of the public SQL contract, Amazon Redshift dialect. Minutes are UTC, second 0.
-- A minute that received events after its claim appears as more than one batch: sum `count`.
-- VARCHAR lengths are bytes, not characters: a value of up to 2,048 characters of UTF-8 needs
-- 8,192. Redshift has no indexes: the sort key (minute first, then site) lets every range query
-- of the pack skip blocks through zone maps. Rows are spread evenly: one very large site would
-- skew a `site` distribution key. The ledger is distributed and sorted on batch_id, the column
-- every load looks up. Its PRIMARY KEY is informational (Redshift does not enforce it); the
-- loader keeps it true with LOCK load_batches plus a NOT EXISTS guard (see src/redshift/load-plan.ts).
-- The sketch is the Redis HyperLogLog string (12,304 bytes dense); VARBYTE(65535) leaves room
-- for raw registers too. The test server strips DISTKEY/SORTKEY/DISTSTYLE and maps VARBYTE to
-- BYTEA before PostgreSQL sees this file.
CREATE TABLE IF NOT EXISTS load_batches (
  batch_id     VARCHAR(512) NOT NULL,
  site         VARCHAR(1024) NOT NULL,
  minute       TIMESTAMP NOT NULL,
  counter_rows INTEGER NOT NULL,
  visitor_rows INTEGER NOT NULL,
  loaded_at    TIMESTAMP NOT NULL DEFAULT GETDATE(),
  PRIMARY KEY (batch_id)
) DISTKEY (batch_id) SORTKEY (batch_id);
CREATE TABLE IF NOT EXISTS event_counts (
  minute    TIMESTAMP NOT NULL,
  site      VARCHAR(1024) NOT NULL,
  event     VARCHAR(1024) NOT NULL,
  dimension VARCHAR(64) NOT NULL,
  value     VARCHAR(8192) NOT NULL,
  count     BIGINT NOT NULL,
  batch_id  VARCHAR(512) NOT NULL
) DISTSTYLE EVEN COMPOUND SORTKEY (minute, site);
CREATE TABLE IF NOT EXISTS unique_visitors (
  minute    TIMESTAMP NOT NULL,
  site      VARCHAR(1024) NOT NULL,
  dimension VARCHAR(64) NOT NULL,
  value     VARCHAR(8192) NOT NULL,
  visitors  BIGINT NOT NULL,
  sketch    VARBYTE(65535) NOT NULL,
  batch_id  VARCHAR(512) NOT NULL
) DISTSTYLE EVEN COMPOUND SORTKEY (minute, site);
