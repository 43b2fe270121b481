-- name: goals
-- answers: Conversions, unique converters and conversion rate of a goal (a custom event name, or a page path starting with /) over [from, to): one row per goal (the `goal` given, or each of GOALS).
-- params: site, from, to, goal
-- columns: goal, conversions, converters, visitors, conversion_rate
-- An event goal converts once per event of that name (event_counts, dimension 'total'); a page
-- goal once per page view of that exact path (event 'pageview', dimension 'page'). Converters
-- merge the goal's minute sketches (unique_visitors, dimension 'event' or 'page', value the
-- goal), visitors the site's (dimension 'total'), as in visitors.sql; conversion_rate is
-- converters / visitors, NULL without visitors. Both are HyperLogLog estimates (about 0.8%;
-- Snowflake's 1.6%).
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
sketches AS (
  SELECT CASE WHEN dimension = 'total' THEN 'visitors' ELSE 'converters' END AS audience, '' AS item,
    -- include: _sketch-payload
  WHERE site = :site AND minute >= :from AND minute < :to
    AND ((dimension = 'total' AND value = '')
      OR (dimension = CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%' THEN 'page' ELSE 'event' END AND value = CAST(:goal AS VARCHAR(65535)))
      OR (CAST(:goal AS VARCHAR(65535)) LIKE '/%' AND dimension = 'combination' AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR(65535))))
),
-- include: _merged-estimates
SELECT
  CAST(:goal AS VARCHAR(65535)) AS goal,
  conversions,
  coalesce(converters.estimate, 0) AS converters,
  coalesce(visitors.estimate, 0) AS visitors,
  CASE WHEN visitors.estimate > 0 THEN CAST(coalesce(converters.estimate, 0) AS DOUBLE PRECISION) / visitors.estimate END AS conversion_rate
FROM conversions
LEFT JOIN estimates AS converters ON converters.audience = 'converters'
LEFT JOIN estimates AS visitors ON visitors.audience = 'visitors'
