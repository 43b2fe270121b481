-- The CTE `estimates` (audience, item, estimate): the sketches of the CTE `sketches` (columns
-- audience, item, then _sketch-payload's) merged per audience and item, every minute and batch
-- of each, by the register-wise maximum, and estimated by rta_hll_estimate (see _migrate.sql).
estimates AS (
  SELECT audience, item, rta_hll_estimate(count(*), sum(power(CAST(2 AS DOUBLE PRECISION), -register_rank)), 16384) AS estimate
  FROM (
    SELECT audience, item, packed >> 6 AS register_index, max(packed & 63) AS register_rank
    FROM (SELECT audience, item, unnest(registers) AS packed FROM sketches) AS expanded
    GROUP BY audience, item, packed >> 6
  ) AS merged
  GROUP BY audience, item
)
