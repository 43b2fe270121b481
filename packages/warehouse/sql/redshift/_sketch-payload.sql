-- A sketch's columns and their table, ending a select list of unique_visitors rows that
-- _merged-estimates merges: one row per non-zero register (see _migrate.sql).
register_index, register_rank FROM unique_visitor_registers
