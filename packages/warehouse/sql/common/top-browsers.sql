-- name: top-browsers
-- answers: Page views per browser and major version (`Chrome 131`; `(unknown)` for unrecognised user agents) over [from, to).
-- params: site, from, to, limit
-- columns: browser, pageviews
SELECT value AS browser, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'browser'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, browser
LIMIT :limit
