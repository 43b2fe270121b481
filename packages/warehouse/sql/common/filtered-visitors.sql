-- name: filtered-visitors
-- answers: Unique visitors of a site's page views over [from, to) that match the filters: one row for the whole range (period = from), or one per hour or day (`by`), merged from the minute sketches of each combination (HyperLogLog, about 0.8% error).
-- params: site, from, to, by, filter_page, filter_referrer, filter_device, filter_country, filter_browser, filter_os, filter_utm_source, filter_utm_medium, filter_utm_campaign
-- columns: period, visitors
-- The `combination` sketches (unique_visitors rows with dimension 'combination') hold the
-- visitors of each combination's page views, value as in event_counts; filters as for
-- filtered-traffic, and the visitors of combinations past the cardinality guard are not in
-- them. Only minutes loaded by the first version that keeps these sketches have them. Merging
-- is the register-wise maximum, as in `visitors`. Periods without such visitors have no row.
WITH registers AS (
  SELECT period, packed >> 6 AS register_index, max(packed & 63) AS register_rank
  FROM (
    SELECT
      -- include: _period
      unnest(registers) AS packed
    FROM (
      SELECT
        minute,
        -- include: _combination-parts
        registers
      FROM unique_visitors
      WHERE site = :site AND dimension = 'combination' AND minute >= :from AND minute < :to
    ) AS parts
    -- include: _combination-filters
  ) AS expanded
  GROUP BY period, packed >> 6
)
SELECT period, rta_hll_estimate(count(*), sum(power(CAST(2 AS DOUBLE PRECISION), -register_rank)), 16384) AS visitors
FROM registers
GROUP BY period
ORDER BY period
