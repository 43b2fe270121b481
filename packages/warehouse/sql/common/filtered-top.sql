-- name: filtered-top
-- answers: Page views of a site over [from, to) per value of one dimension (`dimension`: page, referrer, device, country, browser, os, utm_source, utm_medium or utm_campaign), counting only the page views that match the filters, the top `limit`.
-- params: site, from, to, limit, dimension, filter_page, filter_referrer, filter_device, filter_country, filter_browser, filter_os, filter_utm_source, filter_utm_medium, filter_utm_campaign
-- columns: value, pageviews
-- The `combination` rows hold each event's page, referrer, device, country, browser, os,
-- utm_source, utm_medium and utm_campaign together, joined by chr(31) (an absent campaign
-- parameter is ''). filter_<dimension>: the value to match, or NULL for any; every filter given
-- must match. Events of combinations past the cardinality guard (value '(other)') are not in
-- these counts.
SELECT value, sum(count) AS pageviews
FROM (
  SELECT
    CASE CAST(:dimension AS VARCHAR(65535))
      WHEN 'page' THEN page
      WHEN 'referrer' THEN referrer
      WHEN 'device' THEN device
      WHEN 'country' THEN country
      WHEN 'browser' THEN browser
      WHEN 'os' THEN os
      WHEN 'utm_source' THEN utm_source
      WHEN 'utm_medium' THEN utm_medium
      WHEN 'utm_campaign' THEN utm_campaign
    END AS value,
    count
  FROM (
    SELECT
      -- include: _combination-parts
      count
    FROM event_counts
    WHERE site = :site AND event = 'pageview' AND dimension = 'combination' AND value <> '(other)'
      AND minute >= :from AND minute < :to
  ) AS parts
  -- include: _combination-filters
) AS chosen
WHERE value <> ''
GROUP BY value
ORDER BY pageviews DESC, value
LIMIT :limit
