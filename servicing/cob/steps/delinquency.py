"""Step: days past due, delinquency buckets, non-accrual and suspense, charge-off candidates."""

from __future__ import annotations

from django.db import connection
from django.db.models import Sum
from django.db.models.functions import Coalesce

from lendcore.finance.money import ZERO, round_money
from lendcore.webhooks.outbox import OUTBOX_INSERT_SQL, OUTBOX_UID_SQL, events_emit_many
from servicing import calculations
from servicing.cob import config
from servicing.models import (
    Account,
    ChargeOffCandidate,
    DelinquencyHistory,
    EntryType,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
)

from .accrual import ACCRUED_TEMP
from .base import Scope, sql_text


def _bucket_case_sql(expr: str) -> str:
    parts = []
    for code, lo, hi in config.buckets():
        cond = f"{expr} >= {lo}" + (f" AND {expr} <= {hi}" if hi is not None else "")
        parts.append(f"WHEN {cond} THEN '{code}'")
    return "CASE " + " ".join(parts) + " END"


DELINQUENCY_SQL = """
WITH s AS (
    SELECT l.id, l.status, l.loan_number, l.delinquency_bucket AS old_bucket,
           l.non_accrual AS old_na,
           CASE WHEN l.status = 'active' AND l.oldest_unpaid_due_date < %(day)s
                THEN %(day)s - l.oldest_unpaid_due_date ELSE 0 END AS dpd
      FROM servicing_loan l
     WHERE {scope}
),
b AS (SELECT s.*, {bucket} AS bucket FROM s),
u AS (
    UPDATE servicing_loan l
       SET dpd = b.dpd,
           delinquency_bucket = b.bucket,
           -- non-accrual from COB_NON_ACCRUAL_DPD; back to accrual once cured
           -- (COB_NON_ACCRUAL_CURE_DPD, default 0: current again)
           non_accrual = CASE WHEN l.status = 'active' AND b.dpd >= %(na_dpd)s THEN true
                              WHEN l.status = 'active' AND b.dpd <= %(cure_dpd)s THEN false
                              ELSE l.non_accrual END,
           last_closed_on = %(day)s,
           accrued_interest_exact = COALESCE(a.cum_exact, l.accrued_interest_exact),
           accrued_interest_posted = COALESCE(a.cum_posted, l.accrued_interest_posted),
           last_accrual_date = COALESCE(a.last_day, l.last_accrual_date),
           interest_balance = l.interest_balance + COALESCE(a.delta, 0)
      FROM b LEFT JOIN cob_accrued a ON a.loan_id = b.id
     -- the range again on the target: without it the planner joins the whole table
     WHERE l.id = b.id AND l.id BETWEEN %(lo)s AND %(hi)s
    RETURNING l.id, l.status, b.loan_number, b.old_bucket, b.bucket, b.dpd, b.old_na,
              l.non_accrual
),
h AS (
    INSERT INTO servicing_delinquencyhistory
           (loan_id, business_date, from_bucket, to_bucket, dpd, created_at)
    SELECT u.id, %(day)s, u.old_bucket, u.bucket, u.dpd, now() FROM u
     WHERE u.old_bucket <> u.bucket
    ON CONFLICT (loan_id, business_date) DO NOTHING
    RETURNING 1
),
wh AS (  -- the webhooks' loan.delinquency_changed events (lendcore.webhooks outbox)
    {outbox_insert}
    SELECT {outbox_uid}, 'loan.delinquency_changed', u.id,
           jsonb_build_object('loan_id', u.id, 'loan_number', u.loan_number,
                              'from_bucket', u.old_bucket, 'to_bucket', u.bucket, 'dpd', u.dpd,
                              'business_date', to_char(%(day)s::date, 'YYYY-MM-DD')),
           now()
      FROM u WHERE u.old_bucket <> u.bucket
    RETURNING 1
),
ev AS (
    INSERT INTO servicing_loanevent
           (loan_id, kind, from_status, to_status, reason, data, business_date, created_at)
    SELECT u.id, 'flag', '', '',
           CASE WHEN u.non_accrual
                THEN 'Close of business: ' || u.dpd || ' days past due'
                ELSE 'Close of business: cured, back to accrual' END,
           jsonb_build_object('non_accrual', u.non_accrual, 'dpd', u.dpd), %(day)s, now()
      FROM u WHERE u.non_accrual <> u.old_na
    RETURNING 1
),
lifted AS MATERIALIZED (SELECT u.id, u.loan_number FROM u WHERE u.old_na AND NOT u.non_accrual),
held AS (  -- a loan back to accrual: the interest still in suspense is income now
    SELECT x.id AS loan_id, x.loan_number, s.amount,
           nextval(pg_get_serial_sequence('servicing_journalentry', 'id')) AS entry_id
      FROM lifted x
     CROSS JOIN LATERAL (  -- the loan's suspense lines, by the (loan, account) index
           SELECT SUM(jl.credit - jl.debit) AS amount FROM servicing_journalline jl
            WHERE jl.loan_id = x.id AND jl.account = '{suspense_account}') s
     WHERE s.amount > 0
),
rel AS (
    INSERT INTO servicing_journalentry
           (id, business_date, effective_date, entry_type, loan_id, reference, memo, created_at)
    SELECT held.entry_id, %(bd)s, %(day)s, '{release_type}', held.loan_id, held.loan_number,
           'Back to accrual: suspended interest recognised', now()
      FROM held
    RETURNING 1
),
rel_lines AS (
    INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
    SELECT held.entry_id, held.loan_id, v.account,
           CASE WHEN v.dr THEN held.amount ELSE 0 END, CASE WHEN v.dr THEN 0 ELSE held.amount END
      FROM held CROSS JOIN (VALUES ('{suspense_account}', true), ('{income_account}', false))
           v(account, dr)
    RETURNING 1
),
c AS (
    INSERT INTO servicing_chargeoffcandidate (loan_id, listed_on, dpd, created_at)
    SELECT u.id, %(day)s, u.dpd, now() FROM u
     WHERE u.status = 'active' AND u.dpd >= %(co_dpd)s
    ON CONFLICT (loan_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM u), (SELECT COUNT(*) FROM h), (SELECT COUNT(*) FROM ev),
       (SELECT COUNT(*) FROM c), (SELECT COUNT(*) FROM rel), (SELECT COUNT(*) FROM rel_lines)
"""


def delinquency_close_sql(scope: Scope) -> tuple[int, int, int, int]:
    """PostgreSQL: one UPDATE per scope sets days past due (from the oldest unpaid due date),
    the bucket, non-accrual at COB_NON_ACCRUAL_DPD and back to accrual once cured (releasing
    the interest held in suspense to income), the accrual results and `last_closed_on`;
    bucket changes, flag events and charge-off candidates are INSERT ... SELECT from its
    RETURNING. (closed, bucket changes, non-accrual changes, candidates)"""
    where, params = scope.sql("l")
    params.update(
        na_dpd=config.non_accrual_dpd(),
        cure_dpd=config.non_accrual_cure_dpd(),
        co_dpd=config.charge_off_candidate_dpd(),
    )
    sql = sql_text(
        DELINQUENCY_SQL,
        scope=where,
        bucket=_bucket_case_sql("s.dpd"),
        outbox_insert=OUTBOX_INSERT_SQL,
        outbox_uid=OUTBOX_UID_SQL,
    )
    with connection.cursor() as cursor:
        cursor.execute(ACCRUED_TEMP)
        cursor.execute(sql, params)
        closed, changed, flagged, candidates, _entries, _lines = cursor.fetchone()
        # emptied for the next day of a catch-up: TRUNCATE swaps the (temporary) file where a
        # DELETE would visit the scope's every row
        cursor.execute("TRUNCATE cob_accrued")
    return int(closed), int(changed), int(flagged), int(candidates)


def delinquency_close_orm(scope: Scope) -> tuple[int, int, int, int]:
    """Portable: the same as `delinquency_close_sql` with a read of (id, dates, flags) tuples
    and bulk writes (no loan objects loaded)."""
    rows = list(
        scope.loans().values_list(
            "pk",
            "status",
            "oldest_unpaid_due_date",
            "delinquency_bucket",
            "non_accrual",
            "loan_number",
        )
    )
    if not rows:
        return 0, 0, 0, 0
    na_dpd, co_dpd = config.non_accrual_dpd(), config.charge_off_candidate_dpd()
    cure_dpd = config.non_accrual_cure_dpd()
    updates, history, events, candidates, lifted = [], [], [], [], []
    changes = []  # the webhooks' loan.delinquency_changed events
    for pk, status, oldest, old_bucket, old_na, number in rows:
        active = status == Loan.Status.ACTIVE
        dpd = (scope.day - oldest).days if active and oldest and oldest < scope.day else 0
        bucket = config.bucket_for(dpd)
        non_accrual = calculations.non_accrual(
            was=old_na, active=active, dpd=dpd, non_accrual_dpd=na_dpd, cure_dpd=cure_dpd
        )
        if old_na and not non_accrual:
            lifted.append(pk)
        updates.append(
            Loan(
                pk=pk,
                dpd=dpd,
                delinquency_bucket=bucket,
                non_accrual=non_accrual,
                last_closed_on=scope.day,
            )
        )
        if bucket != old_bucket:
            history.append(
                DelinquencyHistory(
                    loan_id=pk,
                    business_date=scope.day,
                    from_bucket=old_bucket,
                    to_bucket=bucket,
                    dpd=dpd,
                )
            )
            changes.append(
                (
                    "loan.delinquency_changed",
                    pk,
                    {
                        "loan_id": pk,
                        "loan_number": number,
                        "from_bucket": old_bucket,
                        "to_bucket": bucket,
                        "dpd": dpd,
                        "business_date": scope.day,
                    },
                )
            )
        if non_accrual != old_na:
            events.append(
                LoanEvent(
                    loan_id=pk,
                    kind=LoanEvent.Kind.FLAG,
                    reason=f"Close of business: {dpd} days past due"
                    if non_accrual
                    else "Close of business: cured, back to accrual",
                    data={"non_accrual": non_accrual, "dpd": dpd},
                    business_date=scope.day,
                )
            )
        if active and dpd >= co_dpd:
            candidates.append(ChargeOffCandidate(loan_id=pk, listed_on=scope.day, dpd=dpd))
    Loan.objects.bulk_update(
        updates, ["dpd", "delinquency_bucket", "non_accrual", "last_closed_on"], batch_size=500
    )
    DelinquencyHistory.objects.bulk_create(history, ignore_conflicts=True)
    events_emit_many(changes)
    LoanEvent.objects.bulk_create(events)
    ChargeOffCandidate.objects.bulk_create(candidates, ignore_conflicts=True)
    if lifted:
        _suspense_release_orm(lifted, scope)
    return len(rows), len(history), len(events), len(candidates)


def _suspense_release_orm(loan_ids: list[int], scope: Scope) -> None:
    """Loans back to accrual: the interest they hold in suspense becomes income (an entry of
    each, Dr suspense, Cr interest income)."""
    held = [
        (row["loan_id"], row["loan__loan_number"], row["c"] - row["d"])
        for row in JournalLine.objects.filter(loan_id__in=loan_ids, account=Account.SUSPENSE)
        .values("loan_id", "loan__loan_number")
        .annotate(d=Coalesce(Sum("debit"), ZERO), c=Coalesce(Sum("credit"), ZERO))
        .order_by("loan_id")
    ]
    # Rounded before the test: SQLite sums the lines in floating point (0.820000000000001).
    held = [(pk, number, round_money(amount)) for pk, number, amount in held]
    held = [(pk, number, amount) for pk, number, amount in held if amount > 0]
    if not held:
        return
    entries = JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                business_date=scope.business_date,
                effective_date=scope.day,
                entry_type=EntryType.SUSPENSE_RELEASE,
                loan_id=pk,
                reference=number,
                memo="Back to accrual: suspended interest recognised",
            )
            for pk, number, _ in held
        ]
    )
    JournalLine.objects.bulk_create(
        [
            line
            for (pk, _, amount), entry in zip(held, entries, strict=True)
            for line in (
                JournalLine(entry_id=entry.pk, loan_id=pk, account=Account.SUSPENSE, debit=amount),
                JournalLine(
                    entry_id=entry.pk, loan_id=pk, account=Account.INTEREST_INCOME, credit=amount
                ),
            )
        ]
    )
