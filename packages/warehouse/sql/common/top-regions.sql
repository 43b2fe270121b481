-- name: top-regions
-- answers: Page views per region (first subdivision, with its country: `Illinois, US`), only from a geolocation database that has regions (`GEOIP_DATABASE`, e.g. GeoLite2 City), over [from, to).
-- params: site, from, to, limit
-- columns: region, pageviews
SELECT value AS region, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'region'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, region
LIMIT :limit
