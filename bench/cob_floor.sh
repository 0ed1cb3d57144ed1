#!/usr/bin/env bash
# Copied from the shared benchmark kit (shared/bench/cob_floor.sh, "Floors for benchmarks"):
# the project never reads ../shared, so the floor travels with it.
# The raw-SQL floor of one night for N loans, measured now on this machine: a day's accrual rows
# inserted, balances updated, days past due recomputed, each one plain statement over a bare table.
# Prints the seconds. cob_floor.sh N DATABASE_URL
set -u
N=$1; URL=$2
psql "$URL" -qAtX >/dev/null 2>&1 <<SQL
DROP TABLE IF EXISTS floor_loans, floor_accruals;
CREATE TABLE floor_loans (id bigint PRIMARY KEY, principal numeric(14,2), rate numeric(9,6),
  interest numeric(14,2) DEFAULT 0, due date, dpd int DEFAULT 0) WITH (fillfactor = 50);
INSERT INTO floor_loans (id, principal, rate, due)
  SELECT g, 1000 + (g % 49000), 0.05 + (g % 30) / 100.0, date '2026-06-01' + (g % 28) FROM generate_series(1, $N) g;
CREATE TABLE floor_accruals (id bigserial PRIMARY KEY, loan_id bigint, day date, amount numeric(14,2));
VACUUM ANALYZE floor_loans;
SQL
out=$(psql "$URL" -qAtX 2>&1 <<SQL
\timing on
INSERT INTO floor_accruals (loan_id, day, amount) SELECT id, date '2026-06-15', round(principal * rate / 365, 2) FROM floor_loans;
UPDATE floor_loans SET interest = interest + round(principal * rate / 365, 2);
UPDATE floor_loans SET dpd = CASE WHEN due < date '2026-06-15' THEN date '2026-06-15' - due ELSE 0 END;
SQL
)
psql "$URL" -qAtX -c "DROP TABLE IF EXISTS floor_loans, floor_accruals" >/dev/null 2>&1
echo "$out" | awk '/^Time:/ {s += $2} END {printf "%.2f\n", s / 1000}'
