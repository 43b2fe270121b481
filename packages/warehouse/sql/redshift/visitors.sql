-- name: visitors
-- answers: Unique visitors of a site, or of one page, over [from, to): one row for the whole range (period = from), or one per hour or day (`by`), merged from the minute sketches (HyperLogLog, about 0.8% error).
-- params: site, from, to, by, page
-- columns: period, visitors
-- by: 'hour', 'day', or NULL for the whole range. page: a path, or NULL for the whole site.
-- A page's visitors (anyone with a hit on it) merge its own sketches (the visitors of custom
-- events sent from it; before combination sketches, of every hit) with its page views'
-- combinations' sketches.
-- Merging is the register-wise maximum over unique_visitor_registers (every minute and batch in
-- the period); f_rta_hll_estimate (see _migrate.sql) turns the merged registers into the
-- estimate. Periods without visitors have no row.
WITH merged AS (
  SELECT
    -- include: _period
    register_index,
    max(register_rank) AS register_rank
  FROM unique_visitor_registers
  WHERE site = :site AND minute >= :from AND minute < :to
    AND ((CAST(:page AS VARCHAR(65535)) IS NULL AND dimension = 'total' AND value = '')
      OR (dimension = 'page' AND value = CAST(:page AS VARCHAR(65535)))
      OR (dimension = 'combination' AND split_part(value, chr(31), 1) = CAST(:page AS VARCHAR(65535))))
  GROUP BY 1, 2
)
SELECT period, f_rta_hll_estimate(count(*), sum(power(CAST(2 AS FLOAT8), -register_rank)), 16384) AS visitors
FROM merged
GROUP BY period
ORDER BY period
