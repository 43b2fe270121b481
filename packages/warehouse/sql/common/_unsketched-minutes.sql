-- Minutes of [from, to) with page views counted per combination but no combination sketch:
-- loaded before the version that keeps those sketches, so filtered-visitors cannot count their
-- visitors (the dashboard then shows none rather than too few).
SELECT count(*) AS minutes
FROM (
  SELECT minute
  FROM event_counts
  WHERE site = :site AND event = 'pageview' AND dimension = 'combination' AND value <> '(other)'
    AND minute >= :from AND minute < :to
  GROUP BY minute
) AS counted
WHERE NOT EXISTS (
  SELECT 1 FROM unique_visitors AS u
  WHERE u.site = :site AND u.dimension = 'combination' AND u.minute = counted.minute
)
