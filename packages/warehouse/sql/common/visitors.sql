-- name: visitors
-- answers: Unique visitors of a site, or of one page, over [from, to): one row for the whole range (period = from), or one per hour or day (`by`), merged from the minute sketches (HyperLogLog, about 0.8% error).
-- params: site, from, to, by, page
-- columns: period, visitors
-- by: 'hour', 'day', or NULL for the whole range. page: a path, or NULL for the whole site.
-- A page's visitors (anyone with a hit on it) merge its own sketches (the visitors of custom
-- events sent from it; before combination sketches, of every hit) with its page views'
-- combinations' sketches.
-- Merging is the register-wise maximum over every minute and batch in the period (a minute
-- loaded as several batches is one set of visitors); rta_hll_estimate (see _migrate.sql) turns
-- the merged registers into the estimate. Periods without visitors have no row.
WITH registers AS (
  SELECT period, packed >> 6 AS register_index, max(packed & 63) AS register_rank
  FROM (
    SELECT
      -- include: _period
      unnest(registers) AS packed
    FROM unique_visitors
    WHERE site = :site AND minute >= :from AND minute < :to
      AND ((CAST(:page AS VARCHAR(65535)) IS NULL AND dimension = 'total' AND value = '')
        OR (dimension = 'page' AND value = CAST(:page AS VARCHAR(65535)))
        OR (dimension = 'combination' AND split_part(value, chr(31), 1) = CAST(:page AS VARCHAR(65535))))
  ) AS expanded
  GROUP BY period, packed >> 6
)
SELECT period, rta_hll_estimate(count(*), sum(power(CAST(2 AS DOUBLE PRECISION), -register_rank)), 16384) AS visitors
FROM registers
GROUP BY period
ORDER BY period
