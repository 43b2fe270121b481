-- name: pageviews-by-hour
-- answers: Page views of a site per hour (UTC) over [from, to).
-- params: site, from, to
-- columns: hour, pageviews
SELECT date_trunc('hour', minute) AS hour, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'total'
  AND minute >= :from AND minute < :to
GROUP BY 1
ORDER BY 1
