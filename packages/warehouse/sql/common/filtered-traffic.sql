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
    CASE CAST(:by AS VARCHAR(65535))
      WHEN 'hour' THEN date_trunc('hour', minute)
      WHEN 'day' THEN date_trunc('day', minute)
      ELSE CAST(:from AS TIMESTAMP)
    END AS period,
    count
  FROM (
    SELECT
      minute,
      split_part(value, chr(31), 1) AS page,
      split_part(value, chr(31), 2) AS referrer,
      split_part(value, chr(31), 3) AS device,
      split_part(value, chr(31), 4) AS country,
      split_part(value, chr(31), 5) AS browser,
      split_part(value, chr(31), 6) AS os,
      split_part(value, chr(31), 7) AS utm_source,
      split_part(value, chr(31), 8) AS utm_medium,
      split_part(value, chr(31), 9) AS utm_campaign,
      count
    FROM event_counts
    WHERE site = :site AND event = coalesce(CAST(:event AS VARCHAR(65535)), 'pageview') AND dimension = 'combination' AND value <> '(other)'
      AND minute >= :from AND minute < :to
  ) AS parts
  WHERE (CAST(:filter_page AS VARCHAR(65535)) IS NULL OR page = :filter_page)
    AND (CAST(:filter_referrer AS VARCHAR(65535)) IS NULL OR referrer = :filter_referrer)
    AND (CAST(:filter_device AS VARCHAR(65535)) IS NULL OR device = :filter_device)
    AND (CAST(:filter_country AS VARCHAR(65535)) IS NULL OR country = :filter_country)
    AND (CAST(:filter_browser AS VARCHAR(65535)) IS NULL OR browser = :filter_browser)
    AND (CAST(:filter_os AS VARCHAR(65535)) IS NULL OR os = :filter_os)
    AND (CAST(:filter_utm_source AS VARCHAR(65535)) IS NULL OR utm_source = :filter_utm_source)
    AND (CAST(:filter_utm_medium AS VARCHAR(65535)) IS NULL OR utm_medium = :filter_utm_medium)
    AND (CAST(:filter_utm_campaign AS VARCHAR(65535)) IS NULL OR utm_campaign = :filter_utm_campaign)
) AS periods
GROUP BY period
ORDER BY period
