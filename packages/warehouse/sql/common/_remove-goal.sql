-- Removes a goal from a site's dashboard.
DELETE FROM dashboard_goals WHERE site = :site AND goal = :goal
