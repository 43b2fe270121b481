-- name: goals
-- answers: Conversions, unique converters and conversion rate of a goal (a custom event name, or a page path starting with /) over [from, to): one row per goal (the `goal` given, or each of GOALS).
-- params: site, from, to, goal
-- columns: goal, conversions, converters, visitors, conversion_rate
-- As common/goals.sql, merging the HLL_EXPORT objects with HLL_COMBINE (see visitors.sql;
-- precision 12, about 1.6% error).
WITH conversions AS (
  SELECT coalesce(sum(count), 0) AS conversions
  FROM event_counts
  WHERE site = :site AND minute >= :from AND minute < :to
    AND CASE WHEN CAST(:goal AS VARCHAR) LIKE '/%'
      THEN event = 'pageview' AND dimension = 'page' AND value = CAST(:goal AS VARCHAR)
      ELSE event = CAST(:goal AS VARCHAR) AND dimension = 'total'
    END
),
estimates AS (
  SELECT
    coalesce(max(CASE WHEN audience = 'converters' THEN estimate END), 0) AS converters,
    coalesce(max(CASE WHEN audience = 'visitors' THEN estimate END), 0) AS visitors
  FROM (
    SELECT
      CASE WHEN dimension = 'total' THEN 'visitors' ELSE 'converters' END AS audience,
      HLL_ESTIMATE(HLL_COMBINE(HLL_IMPORT(CAST(hll AS OBJECT)))) AS estimate
    FROM unique_visitors
    WHERE site = :site AND minute >= :from AND minute < :to
      AND ((dimension = 'total' AND value = '')
        OR (dimension = CASE WHEN CAST(:goal AS VARCHAR) LIKE '/%' THEN 'page' ELSE 'event' END AND value = CAST(:goal AS VARCHAR))
        OR (CAST(:goal AS VARCHAR) LIKE '/%' AND dimension = 'combination' AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR)))
    GROUP BY 1
  ) AS per_audience
)
SELECT
  CAST(:goal AS VARCHAR) AS goal,
  conversions,
  converters,
  visitors,
  CASE WHEN visitors = 0 THEN NULL ELSE CAST(converters AS DOUBLE) / visitors END AS conversion_rate
FROM conversions, estimates
