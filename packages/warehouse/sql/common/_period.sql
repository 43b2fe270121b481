-- The period of a row's minute, as a column followed by a comma: its hour or day (`by`), or the
-- range's start (`from`) for one row over the whole range. Included by the queries with `by`.
CASE CAST(:by AS VARCHAR(65535))
  WHEN 'hour' THEN date_trunc('hour', minute)
  WHEN 'day' THEN date_trunc('day', minute)
  ELSE CAST(:from AS TIMESTAMP)
END AS period,
