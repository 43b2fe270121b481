-- The goals a site's dashboard added (dashboard_goals), oldest first.
SELECT goal, min(added_at) AS added_at
FROM dashboard_goals
WHERE site = :site
GROUP BY goal
ORDER BY 2, 1
