-- name: visitors-by-minute
-- answers: Unique visitors of a site in each minute over [from, to) (HyperLogLog estimate, about 0.8% error).
-- params: site, from, to
-- columns: minute, visitors
-- A minute loaded as several batches shows its largest batch; merging sketches across batches and
-- minutes is the `visitors` query's job.
SELECT minute, max(visitors) AS visitors
FROM unique_visitors
WHERE site = :site AND dimension = 'total'
  AND minute >= :from AND minute < :to
GROUP BY minute
ORDER BY minute
