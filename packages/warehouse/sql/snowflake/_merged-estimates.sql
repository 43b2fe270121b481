-- The CTE `estimates` (audience, item, estimate): the sketches of the CTE `sketches` (columns
-- audience, item, then _sketch-payload's) merged per audience and item by HLL_COMBINE (the
-- HLL_EXPORT objects at precision 12: about 1.6% error; HLL_IMPORT takes an OBJECT, hence the cast).
estimates AS (
  SELECT audience, item, HLL_ESTIMATE(HLL_COMBINE(HLL_IMPORT(CAST(hll AS OBJECT)))) AS estimate
  FROM sketches
  GROUP BY audience, item
)
