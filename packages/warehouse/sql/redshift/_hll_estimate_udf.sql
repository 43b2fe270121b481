-- The SQL UDF of the `visitors` query, created by the migration when missing and replaced only
-- when this body changed (src/redshift/warehouse.ts compares it with pg_proc.prosrc), so running
-- the migration again needs no more than CREATE on the schema; replacing it needs its owner or
-- a superuser. Redshift runs `ln` of a DECIMAL literal on the leader node only: constants are
-- written out (0.7213475204444817 = 0.5 / ln 2) and `ln` is applied to FLOAT8 values alone.
-- HyperLogLog estimate of merged p=14 registers, Ertl's estimator as Redis's PFCOUNT computes it:
--   E = round(alpha_inf * m^2 / (sum over non-zero registers of 2^-rank + m * sigma(zeros / m)))
-- with alpha_inf = 0.5 / ln 2 and sigma(x) = x + sum_{k>=1} x^(2^k) * 2^(k-1), written out to
-- 25 terms (exact in doubles for m <= 16,384; exp(max(..., -700)) avoids underflow errors).
-- $1: non-zero merged registers, $2: sum of 2^-rank over them, $3: m (16384).
CREATE FUNCTION f_rta_hll_estimate(BIGINT, FLOAT8, INTEGER) RETURNS BIGINT IMMUTABLE AS $$
  SELECT CASE
    WHEN $1 = 0 THEN CAST(0 AS BIGINT)
    WHEN $1 = $3 THEN CAST(floor(CAST(0.7213475204444817 AS FLOAT8) * $3 * $3 / $2 + 0.5) AS BIGINT)
    ELSE CAST(floor(CAST(0.7213475204444817 AS FLOAT8) * $3 * $3 / ($2 + $3 * (
        (CAST($3 - $1 AS FLOAT8) / $3) +
        exp(greatest(2 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 1 +
        exp(greatest(4 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 2 +
        exp(greatest(8 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 4 +
        exp(greatest(16 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 8 +
        exp(greatest(32 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 16 +
        exp(greatest(64 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 32 +
        exp(greatest(128 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 64 +
        exp(greatest(256 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 128 +
        exp(greatest(512 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 256 +
        exp(greatest(1024 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 512 +
        exp(greatest(2048 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 1024 +
        exp(greatest(4096 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 2048 +
        exp(greatest(8192 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 4096 +
        exp(greatest(16384 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 8192 +
        exp(greatest(32768 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 16384 +
        exp(greatest(65536 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 32768 +
        exp(greatest(131072 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 65536 +
        exp(greatest(262144 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 131072 +
        exp(greatest(524288 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 262144 +
        exp(greatest(1048576 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 524288 +
        exp(greatest(2097152 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 1048576 +
        exp(greatest(4194304 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 2097152 +
        exp(greatest(8388608 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 4194304 +
        exp(greatest(16777216 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 8388608 +
        exp(greatest(33554432 * ln((CAST($3 - $1 AS FLOAT8) / $3)), -700)) * 16777216
      )) + 0.5) AS BIGINT)
  END
$$ LANGUAGE sql;
