-- name: filtered-visitors
-- answers: Unique visitors of a site's page views over [from, to) that match the filters: one row for the whole range (period = from), or one per hour or day (`by`), merged from the minute sketches of each combination (HyperLogLog at precision 12, about 1.6% error).
-- params: site, from, to, by, filter_page, filter_referrer, filter_device, filter_country, filter_browser, filter_os, filter_utm_source, filter_utm_medium, filter_utm_campaign
-- columns: period, visitors
-- The `combination` sketches (unique_visitors rows with dimension 'combination') hold the
-- visitors of each combination's page views, value as in event_counts; filters as for
-- filtered-traffic, and the visitors of combinations past the cardinality guard are not in
-- them. Only minutes loaded by the first version that keeps these sketches have them.
-- HLL_COMBINE merges them, as in `visitors`. Periods without such visitors have no row.
SELECT
  CASE CAST(:by AS VARCHAR)
    WHEN 'hour' THEN date_trunc('hour', minute)
    WHEN 'day' THEN date_trunc('day', minute)
    ELSE CAST(:from AS TIMESTAMP_NTZ)
  END AS period,
  HLL_ESTIMATE(HLL_COMBINE(HLL_IMPORT(CAST(hll AS OBJECT)))) AS visitors
FROM (
  SELECT
    minute,
    -- include: _combination-parts
    hll
  FROM unique_visitors
  WHERE site = :site AND dimension = 'combination' AND minute >= :from AND minute < :to
) AS parts
-- include: _combination-filters
GROUP BY 1
ORDER BY 1
