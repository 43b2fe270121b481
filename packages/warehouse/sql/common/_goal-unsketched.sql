-- The CTE `unsketched` (minutes): minutes of [from, to) whose page views or goal events were
-- counted per combination but have no combination sketches, loaded before the version that
-- keeps them (page views': see _unsketched-minutes; custom events': dimension
-- 'event_combination'), so the goal queries cannot merge their converters per source or page
-- and give none rather than too few. A custom event's combination longer, with its name, than
-- 2,048 characters has no sketch and is not looked for.
unsketched AS (
  SELECT count(*) AS minutes
  FROM (
    SELECT minute, event
    FROM event_counts
    WHERE site = :site AND dimension = 'combination' AND value <> '(other)' AND minute >= :from AND minute < :to
      AND (event = 'pageview' OR (event = CAST(:goal AS VARCHAR(65535)) AND length(event) + 1 + length(value) <= 2048))
    GROUP BY minute, event
  ) AS counted
  WHERE NOT EXISTS (
    SELECT 1 FROM unique_visitors AS u
    WHERE u.site = :site AND u.minute = counted.minute
      AND CASE WHEN counted.event = 'pageview'
        THEN u.dimension = 'combination'
        ELSE u.dimension = 'event_combination' AND split_part(u.value, chr(31), 1) = counted.event
      END
  )
)
