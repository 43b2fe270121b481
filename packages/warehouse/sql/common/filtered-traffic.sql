-- name: filtered-traffic
-- answers: Page views (or the custom event `event`) of a site over [from, to) that match the filters: one row for the whole range (period = from), or one per hour or day (`by`).
-- params: site, from, to, by, event, filter_page, filter_referrer, filter_device, filter_country, filter_browser, filter_os, filter_utm_source, filter_utm_medium, filter_utm_campaign
-- columns: period, events
-- The `combination` rows hold each event's page, referrer, device, country, browser, os,
-- utm_source, utm_medium and utm_campaign together, joined by chr(31) (an absent campaign
-- parameter is ''). filter_<dimension>: the value to match, or NULL for any; every filter given
-- must match. Events of combinations past the cardinality guard (value '(other)') are not in
-- these counts. event: an event name, or NULL for page views. Periods without such events have
-- no row.
SELECT period, sum(count) AS events
FROM (
  SELECT
    -- include: _period
    count
  FROM (
    SELECT
      minute,
      -- include: _combination-parts
      count
    FROM event_counts
    WHERE site = :site AND event = coalesce(CAST(:event AS VARCHAR(65535)), 'pageview') AND dimension = 'combination' AND value <> '(other)'
      AND minute >= :from AND minute < :to
  ) AS parts
  -- include: _combination-filters
) AS periods
GROUP BY period
ORDER BY period
