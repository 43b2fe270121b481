-- name: goal-pages
-- answers: Conversions of an event goal per page it was sent from over [from, to), one list per goal; a page goal's only page is itself.
-- params: site, from, to, goal, limit
-- columns: goal, page, conversions
SELECT CAST(:goal AS VARCHAR(65535)) AS goal, value AS page, sum(count) AS conversions
FROM event_counts
WHERE site = :site AND dimension = 'page' AND minute >= :from AND minute < :to
  AND CASE WHEN CAST(:goal AS VARCHAR(65535)) LIKE '/%'
    THEN event = 'pageview' AND value = CAST(:goal AS VARCHAR(65535))
    ELSE event = CAST(:goal AS VARCHAR(65535))
  END
GROUP BY value
ORDER BY conversions DESC, page
LIMIT :limit
