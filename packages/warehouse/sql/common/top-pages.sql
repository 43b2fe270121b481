-- name: top-pages
-- answers: The most viewed pages of a site over [from, to), with their page views.
-- params: site, from, to, limit
-- columns: page, pageviews
SELECT value AS page, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'page'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, page
LIMIT :limit
