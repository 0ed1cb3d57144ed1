"""The reports benchmark's seed on top of close of business's (`bench_cob.SEED_SQL`: N loans,
schedules, installments, the delinquent tenth's late fees) and the loan tape's ledger
(`bench_loan_tape.LEDGER_SQL`: a disbursement, an accrual and a payment entry per paid
installment, the delinquent loans' bucket history). Set-based (INSERT ... SELECT
generate_series), in the bench database's Django process. Not a test; see bench_reports.py.
"""

from __future__ import annotations

import time
from datetime import timedelta

# The book's business date is bench_cob's (2026-06-15); history ends at the night before.
SNAPSHOT_FROM = "2024-06-15"
SNAPSHOT_TO = "2026-06-14"

# Products, buckets and statuses: a third of the book outside PERSONAL, 5 % paid off, 2 %
# charged off, the delinquent tenth spread over the five late buckets (the COB seed puts
# every loan in PERSONAL, active and current).
SPREAD_SQL = """
UPDATE servicing_loan SET
       product_code = CASE WHEN id % 7 IN (0, 1) THEN 'AUTO' WHEN id % 7 = 2 THEN 'SMALLBIZ'
                           ELSE 'PERSONAL' END,
       product_name = CASE WHEN id % 7 IN (0, 1) THEN 'Auto loan' WHEN id % 7 = 2
                           THEN 'Small business' ELSE 'Personal' END;
UPDATE servicing_loan SET status = 'paid_off', principal_balance = 0, interest_balance = 0,
       fees_balance = 0 WHERE id % 20 = 3;
UPDATE servicing_loan SET status = 'charged_off', principal_balance = 0, interest_balance = 0,
       fees_balance = 0, delinquency_bucket = '120+', dpd = 150, delinquent = true
 WHERE id % 50 = 11;
UPDATE servicing_loan SET delinquent = true,
       dpd = (ARRAY[15, 45, 75, 105, 150])[1 + (id / 10) % 5],
       delinquency_bucket = (ARRAY['1-29', '30-59', '60-89', '90-119', '120+'])[1 + (id / 10) % 5]
 WHERE id % 10 = 0;
"""

# One payment per paid installment (the payment entries LEDGER_SQL writes), over the methods,
# one in 200 reversed three days later.
PAYMENTS_SQL = """
INSERT INTO servicing_payment (amount, effective_date, method, reference, status, is_recovery,
    posted_on, alloc_fees, alloc_interest, alloc_principal, alloc_excess, alloc_credit,
    reversal_reason, nsf, reversed_on, created_at, loan_id)
SELECT 1100.00, i.due_date,
       (ARRAY['ach', 'ach', 'ach', 'debit_card', 'debit_card', 'cash', 'check', 'wire'])
           [1 + i.id % 8],
       'SEED-' || i.id, CASE WHEN i.id % 200 = 7 THEN 'reversed' ELSE 'posted' END, false,
       i.due_date, 0, 100.00, 1000.00, 0, 0, CASE WHEN i.id % 200 = 7 THEN 'nsf' ELSE '' END,
       i.id % 200 = 7, CASE WHEN i.id % 200 = 7 THEN i.due_date + 3 END, now(), i.loan_id
  FROM servicing_installment i WHERE i.status = 'paid';
"""

# Close of business's aggregate rows for two years of nights: one row per product, bucket and
# status with loans in it (active in each bucket, paid off current, charged off 120+), the
# book growing from 40 % to 100 % of N, the late buckets' shares moving with the season.
SNAPSHOTS_SQL = """
INSERT INTO servicing_portfoliosnapshot (business_date, product_code, bucket, status, loans,
                                         principal, interest, fees)
SELECT x.d, x.code, x.bucket, x.status, x.loans, x.loans * x.avg_principal,
       x.loans * x.avg_principal * 0.004, x.loans * x.fee
  FROM (SELECT d::date AS d, p.code, c.bucket, c.status, p.avg_principal, c.fee,
               GREATEST(1, round(%(n)s * (0.4 + 0.6 * (d::date - date '%(from)s') / 730.0)
                   * p.share * c.share
                   * (1 + c.swing * sin((d::date - date '%(from)s') / 58.0))))::int AS loans
          FROM generate_series(date '%(from)s', date '%(to)s', interval '1 day') d
         CROSS JOIN (VALUES ('PERSONAL', 0.57, 8000.00), ('AUTO', 0.29, 14000.00),
                            ('SMALLBIZ', 0.14, 26000.00)) p(code, share, avg_principal)
         CROSS JOIN (VALUES ('current', 'active', 0.83, 0.00, 0.00),
                            ('1-29', 'active', 0.045, 0.15, 15.00),
                            ('30-59', 'active', 0.02, 0.20, 30.00),
                            ('60-89', 'active', 0.012, 0.20, 45.00),
                            ('90-119', 'active', 0.008, 0.25, 60.00),
                            ('120+', 'active', 0.015, 0.10, 75.00),
                            ('current', 'paid_off', 0.05, 0.00, 0.00),
                            ('120+', 'charged_off', 0.02, 0.05, 0.00))
               c(bucket, status, share, swing, fee)) x;

INSERT INTO servicing_portfolioactivity (business_date, product_code, originations, originated,
    payments, paid, charge_offs, charged_off, recoveries)
SELECT d::date, p.code, x.originated, x.originated * p.avg_principal * 1.4,
       x.paying, x.paying * p.avg_principal / 11, x.charged, x.charged * p.avg_principal,
       x.charged * p.avg_principal * 0.08
  FROM generate_series(date '%(from)s', date '%(to)s', interval '1 day') d
 CROSS JOIN (VALUES ('PERSONAL', 0.57, 8000.00), ('AUTO', 0.29, 14000.00),
                    ('SMALLBIZ', 0.14, 26000.00)) p(code, share, avg_principal)
 CROSS JOIN LATERAL (SELECT %(n)s * (0.4 + 0.6 * (d::date - date '%(from)s') / 730.0)
                            * p.share AS book) b
 CROSS JOIN LATERAL (SELECT round(b.book / 500)::int AS originated,
                            round(b.book / 30)::int AS paying,
                            round(b.book / 5000)::int AS charged) x;
"""

# The origination pipeline: applicants, and applications created over the last six months
# (wall clock: the dashboard's pipeline reads decisions of the last thirty days by
# `decided_at`), about three in five decided, with minutes to hours to a decision.
APPLICATIONS_SQL = """
INSERT INTO origination_applicant (first_name, last_name, ssn_encrypted, ssn_last4, email,
    phone, address_line1, address_line2, city, state, postal_code, employer, months_employed,
    monthly_income, monthly_housing_payment, monthly_other_debts, created_at,
    date_of_birth_encrypted)
SELECT 'Bench', 'Applicant' || g, '%(ssn)s', '9999', 'applicant' || g || '@example.com', '',
       '1 Elm Street', '', 'Springfield', 'IL', '62701', 'Acme', 24 + g % 100,
       4000 + (g % 60) * 100, 1200, 300, now(), '%(dob)s'
  FROM generate_series(1, %(applicants)s) g;

INSERT INTO origination_application (amount, term, frequency, purpose, channel, status,
    status_reason, created_at, updated_at, submitted_at, decided_at, applicant_id, product_id,
    product_version_id, disbursement_account_encrypted, disbursement_account_last4)
SELECT 1000 + (g % 49) * 500, 12 + g % 49, 'monthly', 'Debt consolidation',
       (ARRAY['portal', 'staff', 'api'])[1 + g % 3], s.status, '', t.created, t.created,
       CASE WHEN s.status <> 'draft' THEN t.created + interval '10 minutes' END,
       CASE WHEN s.status IN ('approved', 'declined', 'referred', 'offer_accepted', 'disbursed',
                              'expired')
            THEN t.created + interval '10 minutes' + (g % 2880) * interval '1 minute' END,
       a.first_id + g % %(applicants)s, %(product)s, %(version)s, '', ''
  FROM generate_series(1, %(applications)s) g
 CROSS JOIN (SELECT MIN(id) AS first_id FROM origination_applicant) a
 CROSS JOIN LATERAL (SELECT now() - (g % 180) * interval '1 day'
                            - (g % 1440) * interval '1 minute' AS created) t
 CROSS JOIN LATERAL (SELECT (ARRAY['approved', 'approved', 'approved', 'declined', 'declined',
        'declined', 'declined', 'disbursed', 'disbursed', 'disbursed', 'disbursed', 'disbursed',
        'disbursed', 'offer_accepted', 'referred', 'submitted', 'in_review', 'draft',
        'withdrawn', 'expired'])[1 + (g * 7) % 20] AS status) s;
"""

# Collections: an open case per delinquent loan; cases closed (three in five cured) and
# promises settled (two in three kept) over the last two months, as close of business and the
# collectors leave them (the dashboard reads the last thirty days of both).
COLLECTIONS_SQL = """
INSERT INTO collections_app_collectioncase (loan_id, status, opened_on, bucket, product_code,
    priority, amount_past_due, dpd, outcome, reviewed_on, created_at, follow_up_channel,
    follow_up_note, disputed)
SELECT l.id, 'open', date '2026-06-15' - l.dpd, l.delinquency_bucket, l.product_code,
       l.dpd * 10 + l.id % 100,
       1100.00, l.dpd, '', date '2026-06-14', now(), '', '', false
  FROM servicing_loan l WHERE l.status = 'active' AND l.delinquent;

INSERT INTO collections_app_collectioncase (loan_id, status, opened_on, closed_on, bucket,
    product_code, priority, amount_past_due, dpd, outcome, reviewed_on, created_at,
    follow_up_channel, follow_up_note, disputed)
SELECT l.id, CASE WHEN l.id % 5 < 3 THEN 'cured' ELSE 'closed' END,
       date '2026-04-01' + (l.id % 20)::int, date '2026-04-15' + (l.id % 60)::int, '1-29',
       l.product_code, 0, 0, 0,
       CASE WHEN l.id % 5 < 3 THEN 'cured' ELSE 'paid_off' END, date '2026-06-14', now(), '',
       '', false
  FROM servicing_loan l WHERE l.id % 40 = 1;

INSERT INTO collections_app_promisetopay (promise_key, sequence, amount, due_date, promised_on,
    status, kept_amount, settled_on, created_at, case_id, loan_id)
SELECT md5(c.id::text), 1, 1100.00, c.closed_on - 2, c.opened_on + 5,
       CASE WHEN c.id % 3 = 0 THEN 'broken' ELSE 'kept' END,
       CASE WHEN c.id % 3 = 0 THEN 0 ELSE 1100.00 END, c.closed_on - 1, now(), c.id, c.loan_id
  FROM collections_app_collectioncase c WHERE c.closed_on IS NOT NULL;
"""


def _run(cursor, sql: str, values: dict[str, object]) -> None:
    """Each statement of `sql` with `%(key)s` replaced by its value (the values are the
    bench's own numbers and tokens: no parameters, so psycopg2 leaves the `%` signs alone)."""
    for key, value in values.items():
        sql = sql.replace(f"%({key})s", str(value))
    for statement in sql.split(";\n"):
        if statement.strip():
            cursor.execute(statement)


# Close of business's month-end cells for two years of month ends (servicing.month_ends): the
# roll cells (per product, each bucket at the previous month end to each bucket or paid_off /
# charged_off at this one; most stay, some roll forward, some cure) and the vintage cells (per
# product, every origination month of the last three years up to the month end, with
# charge-offs and 30+ DPD rising with months on book). The reports read only these cells; the
# per-loan `LoanMonthEnd` rows they are made from are not read by any report, so not seeded.
MONTH_END_SQL = """
INSERT INTO servicing_rollratecell (month_end, product_code, from_bucket, to_state, loans,
                                    principal)
SELECT m.month_end, p.code, f.bucket, t.state,
       GREATEST(1, round(%(n)s * m.book * p.share * f.share * t.share))::int,
       GREATEST(1, round(%(n)s * m.book * p.share * f.share * t.share)) * p.avg_principal
  FROM (SELECT (g + interval '1 month' - interval '1 day')::date AS month_end,
               0.4 + 0.6 * ((g::date - date '%(from)s') / 730.0) AS book
          FROM generate_series(date_trunc('month', date '%(from)s') + interval '1 month',
                               date_trunc('month', date '%(to)s') - interval '1 month',
                               interval '1 month') g) m
 CROSS JOIN (VALUES ('PERSONAL', 0.57, 8000.00), ('AUTO', 0.29, 14000.00),
                    ('SMALLBIZ', 0.14, 26000.00)) p(code, share, avg_principal)
 CROSS JOIN (VALUES ('current', 0.83), ('1-29', 0.045), ('30-59', 0.02), ('60-89', 0.012),
                    ('90-119', 0.008), ('120+', 0.015)) f(bucket, share)
 CROSS JOIN (VALUES ('current', 0.80), ('1-29', 0.08), ('30-59', 0.04), ('60-89', 0.02),
                    ('90-119', 0.015), ('120+', 0.015), ('paid_off', 0.02),
                    ('charged_off', 0.01)) t(state, share);

INSERT INTO servicing_vintagecell (month_end, product_code, origination_month,
    months_on_book, loans, originated, charged_off, dpd30_principal)
SELECT m.month_end, p.code, o.month::date,
       (extract(year FROM age(date_trunc('month', m.month_end), o.month)) * 12
        + extract(month FROM age(date_trunc('month', m.month_end), o.month)))::int AS mob,
       GREATEST(1, round(%(n)s * p.share / 36))::int,
       GREATEST(1, round(%(n)s * p.share / 36)) * p.avg_principal,
       GREATEST(1, round(%(n)s * p.share / 36)) * p.avg_principal
           * LEAST(0.08, 0.0015 * (m.month_end - o.month::date) / 30.0),
       GREATEST(1, round(%(n)s * p.share / 36)) * p.avg_principal
           * LEAST(0.05, 0.002 * (m.month_end - o.month::date) / 30.0)
  FROM (SELECT (g + interval '1 month' - interval '1 day')::date AS month_end
          FROM generate_series(date_trunc('month', date '%(from)s'),
                               date_trunc('month', date '%(to)s') - interval '1 month',
                               interval '1 month') g) m
 CROSS JOIN (VALUES ('PERSONAL', 0.57, 8000.00), ('AUTO', 0.29, 14000.00),
                    ('SMALLBIZ', 0.14, 26000.00)) p(code, share, avg_principal)
 CROSS JOIN LATERAL generate_series(date_trunc('month', m.month_end) - interval '36 months',
                                    date_trunc('month', m.month_end), interval '1 month') o(month);
"""


def month_end_aggregates_seed(cursor, n: int) -> None:
    """Two years of month-end roll and vintage cells for N loans (MONTH_END_SQL)."""
    cursor.execute(MONTH_END_SQL % {"n": int(n), "from": SNAPSHOT_FROM, "to": SNAPSHOT_TO})
    cursor.execute(
        "SELECT (SELECT count(*) FROM servicing_rollratecell),"
        " (SELECT count(*) FROM servicing_vintagecell)"
    )
    rolls, vintages = cursor.fetchone()
    print(f"  month-end cells: {rolls} roll, {vintages} vintage")


def daily_totals_seed() -> None:
    """Close of business's daily ledger and payment totals for every seeded day before the
    book's business date, by the very function its `daily_totals` step and the backfill use
    (one aggregate query over the lines, one over the payments, a bulk insert of the sums):
    the ledger reports read these for closed days and only the open day's lines live."""
    from django.db.models import Min

    from servicing.daily_totals import daily_totals_write
    from servicing.models import JournalEntry
    from servicing.selectors import business_date_get

    first = JournalEntry.objects.aggregate(d=Min("business_date"))["d"]
    last = business_date_get() - timedelta(days=1)
    rows = daily_totals_write(first, last, source="backfill") if first and first <= last else 0
    print(f"  daily totals: {rows} rows, {first} to {last}")


def seed_reports(n: int) -> None:
    """Everything the reports and the dashboard read, on top of the COB seed (one transaction,
    then VACUUM ANALYZE)."""
    import bench_loan_tape
    from django.db import connection, transaction

    from origination import crypto
    from origination.demo import personal_product_ensure

    started = time.perf_counter()
    product = personal_product_ensure()
    version = product.versions.order_by("-version").first()
    values = {
        "n": int(n),
        "from": SNAPSHOT_FROM,
        "to": SNAPSHOT_TO,
        "ssn": crypto.encrypt("123459999"),
        "dob": crypto.encrypt("1980-01-01"),
        "applicants": max(500, n // 100),
        "applications": max(2000, n // 25),
        "product": product.pk,
        "version": version.pk,
    }
    steps = (
        ("spread", SPREAD_SQL),
        ("ledger", bench_loan_tape.LEDGER_SQL),
        ("payments", PAYMENTS_SQL),
        ("snapshots", SNAPSHOTS_SQL),
        ("applications", APPLICATIONS_SQL),
        ("collections", COLLECTIONS_SQL),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for name, sql in steps:
            began = time.perf_counter()
            _run(cursor, sql, values)
            print(f"  seeded {name} in {time.perf_counter() - began:.1f} s", flush=True)
        month_end_aggregates_seed(cursor, n)
    began = time.perf_counter()
    with transaction.atomic():
        daily_totals_seed()
    print(f"  seeded daily totals in {time.perf_counter() - began:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        counts = {}
        for table in (
            "servicing_loan",
            "servicing_journalline",
            "servicing_payment",
            "servicing_portfoliosnapshot",
            "servicing_portfolioactivity",
            "servicing_ledgerdaytotal",
            "servicing_paymentdaytotal",
            "origination_application",
            "collections_app_collectioncase",
            "collections_app_promisetopay",
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    print(
        f"  seeded the reports' data in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{table} {count:,}" for table, count in counts.items()),
        flush=True,
    )
