-- name: top-devices
-- answers: Page views per device class (desktop, mobile, tablet) over [from, to).
-- params: site, from, to, limit
-- columns: device, pageviews
SELECT value AS device, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'device'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, device
LIMIT :limit
