-- name: top-campaigns
-- answers: Page views per UTM value (utm_source, utm_medium, utm_campaign) over [from, to), the top `limit` of each.
-- params: site, from, to, limit
-- columns: dimension, value, pageviews
SELECT dimension, value, pageviews
FROM (
  SELECT
    dimension,
    value,
    sum(count) AS pageviews,
    row_number() OVER (PARTITION BY dimension ORDER BY sum(count) DESC, value) AS rn
  FROM event_counts
  WHERE site = :site AND event = 'pageview' AND dimension IN ('utm_source', 'utm_medium', 'utm_campaign')
    AND minute >= :from AND minute < :to
  GROUP BY dimension, value
) AS ranked
WHERE rn <= :limit
ORDER BY dimension, pageviews DESC, value
