-- Tables of the public SQL contract, Amazon Redshift dialect. Minutes are UTC, second 0.
-- A minute that received events after its claim appears as more than one batch: sum `count`.
-- VARCHAR lengths are bytes, not characters: a value of up to 2,048 characters of UTF-8 needs
-- 8,192. Redshift has no indexes: the sort key (minute first, then site) lets every range query
-- of the pack skip blocks through zone maps. Rows are spread evenly: one very large site would
-- skew a `site` distribution key. The ledger is distributed and sorted on batch_id, the column
-- every load looks up. Its PRIMARY KEY is informational (Redshift does not enforce it); the
-- loader keeps it true with LOCK load_batches plus a NOT EXISTS guard (see src/redshift/load-plan.ts).
-- The sketch is the Redis HyperLogLog string (12,304 bytes dense); VARBYTE(65535) leaves room.
-- The test server strips DISTKEY/SORTKEY/DISTSTYLE and maps VARBYTE to BYTEA before PostgreSQL
-- sees this file.
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

-- One row per non-zero register of each unique_visitors row (same minute, site, dimension,
-- value, batch_id): what SQL merges for visitors over any window (see the `visitors` query).
-- Redshift has no arrays a plain query can unnest, and a column store keeps these rows small:
-- the sort key runs the repeated key columns together, leaving about 3 bytes per register.
-- The loader expands them in SQL from a digits-only text (src/sketch-formats.ts).
CREATE TABLE IF NOT EXISTS unique_visitor_registers (
  minute         TIMESTAMP NOT NULL,
  site           VARCHAR(1024) NOT NULL,
  dimension      VARCHAR(64) NOT NULL,
  value          VARCHAR(8192) NOT NULL,
  batch_id       VARCHAR(512) NOT NULL,
  register_index SMALLINT NOT NULL,
  register_rank  SMALLINT NOT NULL
) DISTSTYLE EVEN COMPOUND SORTKEY (minute, site, dimension, value);
-- 0 to 16383, the register indices, for that expansion (generate_series is leader-node only in
-- Redshift). Filled once; LOCK makes a concurrent migration wait and then see the rows.
CREATE TABLE IF NOT EXISTS rta_register_numbers (
  n SMALLINT NOT NULL,
  PRIMARY KEY (n)
) DISTSTYLE ALL SORTKEY (n);
LOCK rta_register_numbers;
INSERT INTO rta_register_numbers (n)
WITH hex AS (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15)
SELECT a.d * 4096 + b.d * 256 + c.d * 16 + e.d
FROM hex a CROSS JOIN hex b CROSS JOIN hex c CROSS JOIN hex e
WHERE a.d < 4 AND NOT EXISTS (SELECT 1 FROM rta_register_numbers);
-- Goals added on the dashboard (next to those of GOALS): an event name or a page path per row.
CREATE TABLE IF NOT EXISTS dashboard_goals (
  site     VARCHAR(1024) NOT NULL,
  goal     VARCHAR(4096) NOT NULL,
  added_at TIMESTAMP NOT NULL
) DISTSTYLE ALL;
