-- name: goal-sources
-- answers: Conversions of a goal per source (referrer host, `(direct)` without one) over [from, to), one list per goal.
-- params: site, from, to, goal, limit
-- columns: goal, source, conversions
-- An event goal's sources are its referrer counters; a page goal's, its page views' `combination`
-- rows (page first, referrer second), from the minutes loaded by the first version that keeps
-- them and without the page views of combinations past the cardinality guard.
SELECT CAST(:goal AS VARCHAR(65535)) AS goal, source, sum(count) AS conversions
FROM (
  SELECT CASE WHEN dimension = 'combination' THEN split_part(value, chr(31), 2) ELSE value END AS source, count
  FROM event_counts
  WHERE site = :site AND minute >= :from AND minute < :to
    AND CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%'
      THEN event = 'pageview' AND dimension = 'combination' AND value <> '(other)' AND split_part(value, chr(31), 1) = CAST(:goal AS VARCHAR(65535))
      ELSE event = CAST(:goal AS VARCHAR(65535)) AND dimension = 'referrer'
    END
) AS sources
GROUP BY source
ORDER BY conversions DESC, source
LIMIT :limit
