-- name: counts-by-minute
-- answers: Every counter of a site per minute, event, dimension and value over [from, to), summed across batches.
-- params: site, from, to
-- columns: minute, event, dimension, value, count
SELECT minute, event, dimension, value, sum(count) AS count
FROM event_counts
WHERE site = :site AND minute >= :from AND minute < :to
GROUP BY minute, event, dimension, value
ORDER BY minute, event, dimension, value
