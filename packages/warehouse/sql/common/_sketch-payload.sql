-- A sketch's columns and their table, ending a select list of unique_visitors rows that
-- _merged-estimates merges: the packed registers (index << 6 | rank) of each minute's sketch.
registers FROM unique_visitors
