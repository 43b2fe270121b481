-- name: top-referrers
-- answers: The referrer hosts that sent the most page views over [from, to); `(direct)` is no or same-site referrer.
-- params: site, from, to, limit
-- columns: referrer, pageviews
SELECT value AS referrer, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'referrer'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, referrer
LIMIT :limit
