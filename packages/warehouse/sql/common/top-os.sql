-- name: top-os
-- answers: Page views per operating system (`Windows`, `macOS`, `iOS`, `Android`…; `(unknown)` for unrecognised user agents) over [from, to).
-- params: site, from, to, limit
-- columns: os, pageviews
SELECT value AS os, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'os'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, os
LIMIT :limit
