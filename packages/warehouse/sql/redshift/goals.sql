-- name: goals
-- answers: Conversions, unique converters and conversion rate of a goal (a custom event name, or a page path starting with /) over [from, to): one row per goal (the `goal` given, or each of GOALS).
-- params: site, from, to, goal
-- columns: goal, conversions, converters, visitors, conversion_rate
-- As common/goals.sql, merging unique_visitor_registers register-wise (see visitors.sql).
WITH conversions AS (
  SELECT coalesce(sum(count), 0) AS conversions
  FROM event_counts
  WHERE site = :site AND minute >= :from AND minute < :to
    AND CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%'
      THEN event = 'pageview' AND dimension = 'page' AND value = CAST(:goal AS VARCHAR(65535))
      ELSE event = CAST(:goal AS VARCHAR(65535)) AND dimension = 'total'
    END
),
merged AS (
  SELECT CASE WHEN dimension = 'total' THEN 'visitors' ELSE 'converters' END AS audience, register_index, max(register_rank) AS register_rank
  FROM unique_visitor_registers
  WHERE site = :site AND minute >= :from AND minute < :to
    AND ((dimension = 'total' AND value = '')
      OR (dimension = CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%' THEN 'page' ELSE 'event' END AND value = CAST(:goal AS VARCHAR(65535)))
      OR (CAST(:goal AS VARCHAR(65535)) LIKE '/%' AND dimension = 'combination' AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR(65535))))
  GROUP BY 1, 2
),
estimates AS (
  SELECT
    coalesce(max(CASE WHEN audience = 'converters' THEN estimate END), 0) AS converters,
    coalesce(max(CASE WHEN audience = 'visitors' THEN estimate END), 0) AS visitors
  FROM (
    SELECT audience, f_rta_hll_estimate(count(*), sum(power(CAST(2 AS FLOAT8), -register_rank)), 16384) AS estimate
    FROM merged
    GROUP BY audience
  ) AS per_audience
)
SELECT
  CAST(:goal AS VARCHAR(65535)) AS goal,
  conversions,
  converters,
  visitors,
  CASE WHEN visitors = 0 THEN NULL ELSE CAST(converters AS FLOAT8) / visitors END AS conversion_rate
FROM conversions, estimates
