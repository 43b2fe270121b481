-- name: top-cities
-- answers: Page views per city, only from a geolocation database that has cities (`GEOIP_DATABASE`, e.g. GeoLite2 City), over [from, to); a city is named with its region and country (`Springfield, Illinois, US`).
-- params: site, from, to, limit
-- columns: city, pageviews
SELECT value AS city, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'city'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, city
LIMIT :limit
