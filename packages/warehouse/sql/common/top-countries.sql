-- name: top-countries
-- answers: Page views per country of the client address (ISO 3166-1 alpha-2 code, `(unknown)` where the geolocation database has none) over [from, to).
-- params: site, from, to, limit
-- columns: country, pageviews
SELECT value AS country, sum(count) AS pageviews
FROM event_counts
WHERE site = :site AND event = 'pageview' AND dimension = 'country'
  AND minute >= :from AND minute < :to
GROUP BY value
ORDER BY pageviews DESC, country
LIMIT :limit
