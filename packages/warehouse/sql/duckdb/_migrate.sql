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
  batch_id  VARCHAR NOT NULL,
  registers INTEGER[]
);
-- The sketch's non-zero registers, each packed as register_index * 64 + rank (index 0-16383,
-- rank 1-51), so SQL can merge minutes (max rank per index) and estimate; see the `visitors`
-- query. NULL only on rows loaded before this column existed.
ALTER TABLE unique_visitors ADD COLUMN IF NOT EXISTS registers INTEGER[];
-- HyperLogLog estimate of merged p=14 registers, Ertl's estimator as Redis's PFCOUNT computes it:
--   E = round(alpha_inf * m^2 / (sum over non-zero registers of 2^-rank + m * sigma(zeros / m)))
-- with alpha_inf = 0.5 / ln 2 and sigma(x) = x + sum_{k>=1} x^(2^k) * 2^(k-1) (25 terms are
-- exact in doubles for m <= 16,384; exp(max(..., -700)) avoids underflow). It equals PFCOUNT of
-- the same registers to within floating-point rounding (registers at the maximum rank 51, which
-- no real hash produces, are counted as rank 51 instead of through Ertl's tau term).
-- nonzero: count of non-zero registers; inverse_sum: sum of 2^-rank over them; m: 16384.
CREATE OR REPLACE MACRO rta_hll_sigma(x) AS
  CASE WHEN x = 0 THEN 0.0 ELSE
    x + list_sum(list_transform(range(1, 26), lambda k: exp(greatest(power(2, k) * ln(x), -700)) * power(2, k - 1)))
  END;
CREATE OR REPLACE MACRO rta_hll_estimate(nonzero, inverse_sum, m) AS
  CASE WHEN nonzero = 0 THEN CAST(0 AS BIGINT) ELSE
    CAST(floor(0.5 / ln(2) * m * m / (inverse_sum + m * rta_hll_sigma(CAST(m - nonzero AS DOUBLE) / m)) + 0.5) AS BIGINT)
  END;
-- Goals added on the dashboard (next to those of GOALS): an event name or a page path per row.
CREATE TABLE IF NOT EXISTS dashboard_goals (
  site     VARCHAR NOT NULL,
  goal     VARCHAR NOT NULL,
  added_at TIMESTAMP NOT NULL
);
