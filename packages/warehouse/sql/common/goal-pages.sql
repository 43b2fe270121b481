-- name: goal-pages
-- answers: Conversions, unique converters and conversion rate of an event goal per page it was sent from over [from, to), one list per goal; a page goal's only page is itself.
-- params: site, from, to, goal, limit
-- columns: goal, page, conversions, converters, visitors, conversion_rate
-- Converters merge an event goal's 'event_combination' sketches of the page (event first, page
-- second), a page goal's the page's visitors; visitors are the page's (its own sketches merged
-- with its page views' combinations', as in visitors --page), so a page goal's rate is 1.
-- Estimates, and NULL for a range with unsketched minutes, as in goal-sources.
WITH pages AS (
  SELECT value AS page, sum(count) AS conversions
  FROM event_counts
  WHERE site = :site AND dimension = 'page' AND minute >= :from AND minute < :to
    AND CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%'
      THEN event = 'pageview' AND value = CAST(:goal AS VARCHAR(65535))
      ELSE event = CAST(:goal AS VARCHAR(65535))
    END
  GROUP BY value
  ORDER BY conversions DESC, page
  LIMIT :limit
),
sketches AS (
  SELECT 'converters' AS audience, split_part(value, chr(31), 2) AS item,
    -- include: _sketch-payload
  WHERE site = :site AND minute >= :from AND minute < :to
    AND dimension = 'event_combination' AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR(65535))
  UNION ALL
  SELECT 'visitors', CASE WHEN dimension = 'page' THEN value ELSE split_part(value, chr(31), 1) END,
    -- include: _sketch-payload
  WHERE site = :site AND minute >= :from AND minute < :to
    AND ((dimension = 'page' AND value IN (SELECT page FROM pages))
      OR (dimension = 'combination' AND split_part(value, chr(31), 1) IN (SELECT page FROM pages)))
),
-- include: _merged-estimates
,
-- include: _goal-unsketched
SELECT
  CAST(:goal AS VARCHAR(65535)) AS goal,
  pages.page,
  pages.conversions,
  CASE WHEN unsketched.minutes = 0 THEN coalesce(converters.estimate, 0) END AS converters,
  CASE WHEN unsketched.minutes = 0 THEN coalesce(visitors.estimate, 0) END AS visitors,
  CASE WHEN unsketched.minutes = 0 AND visitors.estimate > 0 THEN CAST(coalesce(converters.estimate, 0) AS DOUBLE PRECISION) / visitors.estimate END AS conversion_rate
FROM pages
CROSS JOIN unsketched
LEFT JOIN estimates AS converters ON converters.audience = CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%' THEN 'visitors' ELSE 'converters' END AND converters.item = pages.page
LEFT JOIN estimates AS visitors ON visitors.audience = 'visitors' AND visitors.item = pages.page
ORDER BY pages.conversions DESC, pages.page
