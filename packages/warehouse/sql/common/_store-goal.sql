-- Adds a goal to a site's dashboard, unless it is there already.
INSERT INTO dashboard_goals (site, goal, added_at)
SELECT CAST(:site AS VARCHAR(65535)), CAST(:goal AS VARCHAR(65535)), CAST(:now AS TIMESTAMP)
WHERE NOT EXISTS (SELECT 1 FROM dashboard_goals WHERE site = :site AND goal = :goal)
