-- name: goals
-- answers: Conversions, unique converters and conversion rate of a goal (a custom event name, or a page path starting with /) over [from, to): one row per goal (the `goal` given, or each of GOALS).
-- params: site, from, to, goal
-- columns: goal, conversions, converters, visitors, conversion_rate
-- An event goal converts once per event of that name (event_counts, dimension 'total'); a page
-- goal once per page view of that exact path (event 'pageview', dimension 'page'). Converters
-- merge the goal's minute sketches (unique_visitors, dimension 'event' or 'page', value the
-- goal), visitors the site's (dimension 'total'), as in visitors.sql; conversion_rate is
-- converters / visitors, NULL without visitors. Both are HyperLogLog estimates (about 0.8%).
-- A page goal's converters are the visitors with a hit on the page, as for visitors --page:
-- its own sketches merged with its page views' combinations' (dimension 'combination').
WITH conversions AS (
  SELECT coalesce(sum(count), 0) AS conversions
  FROM event_counts
  WHERE site = :site AND minute >= :from AND minute < :to
    AND CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%'
      THEN event = 'pageview' AND dimension = 'page' AND value = CAST(:goal AS VARCHAR(65535))
      ELSE event = CAST(:goal AS VARCHAR(65535)) AND dimension = 'total'
    END
),
registers AS (
  SELECT audience, packed >> 6 AS register_index, max(packed & 63) AS register_rank
  FROM (
    SELECT CASE WHEN dimension = 'total' THEN 'visitors' ELSE 'converters' END AS audience, unnest(registers) AS packed
    FROM unique_visitors
    WHERE site = :site AND minute >= :from AND minute < :to
      AND ((dimension = 'total' AND value = '')
        OR (dimension = CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%' THEN 'page' ELSE 'event' END AND value = CAST(:goal AS VARCHAR(65535)))
        OR (CAST(:goal AS VARCHAR(65535)) LIKE '/%' AND dimension = 'combination' AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR(65535))))
  ) AS expanded
  GROUP BY audience, packed >> 6
),
estimates AS (
  SELECT
    coalesce(max(CASE WHEN audience = 'converters' THEN estimate END), 0) AS converters,
    coalesce(max(CASE WHEN audience = 'visitors' THEN estimate END), 0) AS visitors
  FROM (
    SELECT audience, rta_hll_estimate(count(*), sum(power(CAST(2 AS DOUBLE PRECISION), -register_rank)), 16384) AS estimate
    FROM registers
    GROUP BY audience
  ) AS per_audience
)
SELECT
  CAST(:goal AS VARCHAR(65535)) AS goal,
  conversions,
  converters,
  visitors,
  CASE WHEN visitors = 0 THEN NULL ELSE CAST(converters AS DOUBLE PRECISION) / visitors END AS conversion_rate
FROM conversions, estimates
