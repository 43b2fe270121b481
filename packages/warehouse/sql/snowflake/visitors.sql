-- name: visitors
-- answers: Unique visitors of a site, or of one page, over [from, to): one row for the whole range (period = from), or one per hour or day (`by`), merged from the minute sketches (HyperLogLog at precision 12, about 1.6% error).
-- params: site, from, to, by, page
-- columns: period, visitors
-- by: 'hour', 'day', or NULL for the whole range. page: a path, or NULL for the whole site.
-- A page's visitors (anyone with a hit on it) merge its own sketches (the visitors of custom
-- events sent from it; before combination sketches, of every hit) with its page views'
-- combinations' sketches.
-- `hll` holds each minute's sketch as an HLL_EXPORT object in a VARIANT column; HLL_IMPORT is
-- documented for an OBJECT, hence the cast. HLL_COMBINE merges every minute and batch in the
-- period. Periods without visitors have no row.
SELECT
  CASE CAST(:by AS VARCHAR)
    WHEN 'hour' THEN date_trunc('hour', minute)
    WHEN 'day' THEN date_trunc('day', minute)
    ELSE CAST(:from AS TIMESTAMP_NTZ)
  END AS period,
  HLL_ESTIMATE(HLL_COMBINE(HLL_IMPORT(CAST(hll AS OBJECT)))) AS visitors
FROM unique_visitors
WHERE site = :site AND minute >= :from AND minute < :to
  AND ((CAST(:page AS VARCHAR) IS NULL AND dimension = 'total' AND value = '')
    OR (dimension = 'page' AND value = CAST(:page AS VARCHAR))
    OR (dimension = 'combination' AND split_part(value, chr(31), 1) = CAST(:page AS VARCHAR)))
GROUP BY 1
ORDER BY 1
