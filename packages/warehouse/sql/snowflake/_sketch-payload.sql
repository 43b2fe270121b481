-- A sketch's column and its table, ending a select list of unique_visitors rows that
-- _merged-estimates merges: the minute's HLL_EXPORT object.
hll FROM unique_visitors
