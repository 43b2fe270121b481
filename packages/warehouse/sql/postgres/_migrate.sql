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
  batch_id  TEXT NOT NULL,
  registers INTEGER[]
);
CREATE INDEX IF NOT EXISTS unique_visitors_site_minute ON unique_visitors (site, minute);
-- The sketch's non-zero registers, each packed as register_index * 64 + rank (index 0-16383,
-- rank 1-51), so SQL can merge minutes (max rank per index) and estimate; see the `visitors`
-- query. 4 bytes per non-zero register plus a 24-byte array header. NULL only on rows loaded
-- before this column existed.
ALTER TABLE unique_visitors ADD COLUMN IF NOT EXISTS registers INTEGER[];
-- HyperLogLog estimate of merged p=14 registers, Ertl's estimator as Redis's PFCOUNT computes it:
--   E = round(alpha_inf * m^2 / (sum over non-zero registers of 2^-rank + m * sigma(zeros / m)))
-- with alpha_inf = 0.5 / ln 2 and sigma(x) = x + sum_{k>=1} x^(2^k) * 2^(k-1) (25 terms are
-- exact in doubles for m <= 16,384; exp(max(..., -700)) avoids PostgreSQL's underflow error).
-- It equals PFCOUNT of the same registers to within floating-point rounding.
CREATE OR REPLACE FUNCTION rta_hll_sigma(x double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN x = 0 THEN 0 ELSE
    x + (SELECT sum(exp(greatest(power(2::float8, k) * ln(x), -700)) * power(2::float8, k - 1))
         FROM generate_series(1, 25) AS k)
  END
$$;
-- nonzero: count of non-zero merged registers; inverse_sum: sum of 2^-rank over them; m: 16384.
CREATE OR REPLACE FUNCTION rta_hll_estimate(nonzero bigint, inverse_sum double precision, m integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN nonzero = 0 THEN 0 ELSE
    floor(0.5 / ln(2::float8) * m * m / (inverse_sum + m * rta_hll_sigma((m - nonzero)::float8 / m)) + 0.5)::bigint
  END
$$;
-- Goals added on the dashboard (next to those of GOALS): an event name or a page path per row.
CREATE TABLE IF NOT EXISTS dashboard_goals (
  site     TEXT NOT NULL,
  goal     TEXT NOT NULL,
  added_at TIMESTAMP NOT NULL
);
