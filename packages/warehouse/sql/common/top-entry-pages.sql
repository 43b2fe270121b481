-- name: top-entry-pages
-- answers: The pages visits started on over [from, to), with their visits, bounces and bounce rate.
-- params: site, from, to, limit
-- columns: entry_page, visits, bounces, bounce_rate
-- From the 'visit' and 'engaged_visit' counters of dimension 'entry_page' (see traffic.sql).
SELECT
  entry_page,
  visits,
  visits - engaged_visits AS bounces,
  CAST(visits - engaged_visits AS DOUBLE PRECISION) / visits AS bounce_rate
FROM (
  SELECT
    value AS entry_page,
    sum(CASE WHEN event = 'visit' THEN count ELSE 0 END) AS visits,
    sum(CASE WHEN event = 'engaged_visit' THEN count ELSE 0 END) AS engaged_visits
  FROM event_counts
  WHERE site = :site AND dimension = 'entry_page' AND event IN ('visit', 'engaged_visit')
    AND minute >= :from AND minute < :to
  GROUP BY value
) AS per_page
WHERE visits > 0
ORDER BY visits DESC, entry_page
LIMIT :limit
