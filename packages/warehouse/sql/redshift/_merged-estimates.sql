-- The CTE `estimates` (audience, item, estimate): the sketches of the CTE `sketches` (columns
-- audience, item, then _sketch-payload's) merged per audience and item, every minute and batch
-- of each, by the register-wise maximum, and estimated by f_rta_hll_estimate (see _migrate.sql).
estimates AS (
  SELECT audience, item, f_rta_hll_estimate(count(*), sum(power(CAST(2 AS FLOAT8), -register_rank)), 16384) AS estimate
  FROM (
    SELECT audience, item, register_index, max(register_rank) AS register_rank
    FROM sketches
    GROUP BY audience, item, register_index
  ) AS merged
  GROUP BY audience, item
)
