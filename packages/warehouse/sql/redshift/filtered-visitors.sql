-- name: filtered-visitors
-- answers: Unique visitors of a site's page views over [from, to) that match the filters: one row for the whole range (period = from), or one per hour or day (`by`), merged from the minute sketches of each combination (HyperLogLog, about 0.8% error).
-- params: site, from, to, by, filter_page, filter_referrer, filter_device, filter_country, filter_browser, filter_os, filter_utm_source, filter_utm_medium, filter_utm_campaign
-- columns: period, visitors
-- The `combination` sketches (unique_visitor_registers rows with dimension 'combination') hold
-- the visitors of each combination's page views, value as in event_counts; filters as for
-- filtered-traffic, and the visitors of combinations past the cardinality guard are not in
-- them. Only minutes loaded by the first version that keeps these sketches have them. Merging
-- is the register-wise maximum, as in `visitors`. Periods without such visitors have no row.
WITH merged AS (
  SELECT
    -- include: _period
    register_index,
    max(register_rank) AS register_rank
  FROM (
    SELECT
      minute,
      -- include: _combination-parts
      register_index,
      register_rank
    FROM unique_visitor_registers
    WHERE site = :site AND dimension = 'combination' AND minute >= :from AND minute < :to
  ) AS parts
  -- include: _combination-filters
  GROUP BY 1, 2
)
SELECT period, f_rta_hll_estimate(count(*), sum(power(CAST(2 AS FLOAT8), -register_rank)), 16384) AS visitors
FROM merged
GROUP BY period
ORDER BY period
