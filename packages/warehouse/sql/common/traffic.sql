-- name: traffic
-- answers: Page views, visits, bounces, bounce rate and pages per visit of a site over [from, to): one row for the whole range (period = from), or one per hour or day (`by`).
-- params: site, from, to, by
-- columns: period, pageviews, visits, bounces, bounce_rate, pages_per_visit
-- A visit counts in the minute of its first hit (event 'visit'); a visit that got a second hit
-- (page view or custom event) counts as 'engaged_visit' in that same minute, so bounces (visits
-- with one hit) = visits - engaged visits, exactly, per period. pages_per_visit = page views /
-- visits of the period. Periods without page views or visits have no row.
SELECT
  period,
  pageviews,
  visits,
  visits - engaged_visits AS bounces,
  CASE WHEN visits = 0 THEN NULL ELSE CAST(visits - engaged_visits AS DOUBLE PRECISION) / visits END AS bounce_rate,
  CASE WHEN visits = 0 THEN NULL ELSE CAST(pageviews AS DOUBLE PRECISION) / visits END AS pages_per_visit
FROM (
  SELECT
    period,
    sum(CASE WHEN event = 'pageview' THEN count ELSE 0 END) AS pageviews,
    sum(CASE WHEN event = 'visit' THEN count ELSE 0 END) AS visits,
    sum(CASE WHEN event = 'engaged_visit' THEN count ELSE 0 END) AS engaged_visits
  FROM (
    SELECT
      -- include: _period
      event,
      count
    FROM event_counts
    WHERE site = :site AND dimension = 'total' AND event IN ('pageview', 'visit', 'engaged_visit')
      AND minute >= :from AND minute < :to
  ) AS counted
  GROUP BY period
) AS totals
ORDER BY period
