-- name: goal-sources
-- answers: Conversions of an event goal per source (referrer host, `(direct)` without one) over [from, to), one list per goal; a page goal has none (page views are counted per page and per referrer, not per pair).
-- params: site, from, to, goal, limit
-- columns: goal, source, conversions
SELECT CAST(:goal AS VARCHAR(65535)) AS goal, value AS source, sum(count) AS conversions
FROM event_counts
WHERE site = :site AND event = CAST(:goal AS VARCHAR(65535)) AND dimension = 'referrer'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY conversions DESC, source
LIMIT :limit
