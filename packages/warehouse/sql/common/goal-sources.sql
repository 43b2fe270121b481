-- name: goal-sources
-- answers: Conversions, unique converters and conversion rate of a goal per source (referrer host, `(direct)` without one) over [from, to), one list per goal.
-- params: site, from, to, goal, limit
-- columns: goal, source, conversions, converters, visitors, conversion_rate
-- An event goal's conversions per source are its referrer counters; a page goal's, its page
-- views' `combination` rows (page first, referrer second), from the minutes loaded by the first
-- version that keeps them and without the page views of combinations past the cardinality guard.
-- Converters merge the goal's combination sketches of the source (a custom event's: dimension
-- 'event_combination', event first; a page goal's: its page views' 'combination' sketches),
-- visitors the page views' combination sketches of the source (anyone with a page view from
-- it); conversion_rate is converters / visitors (estimates, as in goals; a custom event sent
-- without a page view from its source can take it past 1). All three are NULL when a minute of
-- the range has no such sketches (see _goal-unsketched).
WITH sources AS (
  SELECT source, sum(count) AS conversions
  FROM (
    SELECT CASE WHEN dimension = 'combination' THEN split_part(value, chr(31), 2) ELSE value END AS source, count
    FROM event_counts
    WHERE site = :site AND minute >= :from AND minute < :to
      AND CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%'
        THEN event = 'pageview' AND dimension = 'combination' AND value <> '(other)' AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR(65535))
        ELSE event = CAST(:goal AS VARCHAR(65535)) AND dimension = 'referrer'
      END
  ) AS counted
  GROUP BY source
  ORDER BY conversions DESC, source
  LIMIT :limit
),
sketches AS (
  SELECT
    'converters' AS audience,
    CASE WHEN dimension = 'combination' THEN split_part(value, chr(31), 2) ELSE split_part(value, chr(31), 3) END AS item,
    -- include: _sketch-payload
  WHERE site = :site AND minute >= :from AND minute < :to
    AND dimension = CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%' THEN 'combination' ELSE 'event_combination' END
    AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR(65535))
  UNION ALL
  SELECT 'visitors', split_part(value, chr(31), 2),
    -- include: _sketch-payload
  WHERE site = :site AND minute >= :from AND minute < :to AND dimension = 'combination'
    AND split_part(value, chr(31), 2) IN (SELECT source FROM sources)
),
-- include: _merged-estimates
,
-- include: _goal-unsketched
SELECT
  CAST(:goal AS VARCHAR(65535)) AS goal,
  sources.source,
  sources.conversions,
  CASE WHEN unsketched.minutes = 0 THEN coalesce(converters.estimate, 0) END AS converters,
  CASE WHEN unsketched.minutes = 0 THEN coalesce(visitors.estimate, 0) END AS visitors,
  CASE WHEN unsketched.minutes = 0 AND visitors.estimate > 0 THEN CAST(coalesce(converters.estimate, 0) AS DOUBLE PRECISION) / visitors.estimate END AS conversion_rate
FROM sources
CROSS JOIN unsketched
LEFT JOIN estimates AS converters ON converters.audience = 'converters' AND converters.item = sources.source
LEFT JOIN estimates AS visitors ON visitors.audience = 'visitors' AND visitors.item = sources.source
ORDER BY sources.conversions DESC, sources.source
