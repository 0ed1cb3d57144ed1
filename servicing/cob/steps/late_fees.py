"""Step: late fees on installments past their grace period."""

from __future__ import annotations

from django.db import connection

from lendcore.webhooks.outbox import OUTBOX_INSERT_SQL, OUTBOX_UID_SQL
from servicing.fees import late_fees_charge

from .base import Scope, is_postgres, remaining_sql, sql_text

LATE_FEES_SQL = """
WITH due AS MATERIALIZED (  -- overdue installments of the range whose due date drew no fee
    SELECT i.id, i.loan_id, i.schedule_id, i.number, i.due_date,
           i.principal_due + i.interest_due + i.fee_due AS total_due,
           {remaining_i} AS remaining
      FROM servicing_installment i
     WHERE i.loan_id BETWEEN %(lo)s AND %(hi)s AND i.paid_on IS NULL AND i.status = '{overdue}'
       AND i.due_date < %(day)s
       -- one late fee per due date: first the installment's own fee (an index lookup that
       -- settles nearly every row); then, a modification having copied past installments
       -- into a new schedule version, a fee charged under the old one for the same date
       AND (SELECT 1 FROM servicing_fee f
             WHERE f.installment_id = i.id AND f.kind = '{late}' AND f.reversed_on IS NULL
             LIMIT 1) IS NULL
       AND NOT EXISTS (
           SELECT 1 FROM servicing_fee f JOIN servicing_installment fi ON fi.id = f.installment_id
            WHERE f.loan_id = i.loan_id AND f.kind = '{late}' AND f.reversed_on IS NULL
              AND fi.due_date = i.due_date)
),
c AS MATERIALIZED (  -- calculations.late_fee_due and calculations.late_fee_amount
    SELECT d.*, l.loan_number,
           'Installment ' || d.number || ' due ' || to_char(d.due_date, 'YYYY-MM-DD')
               || ' unpaid' AS reason,
           GREATEST(0, LEAST(
               CASE WHEN l.late_fee_kind = '{percent}'
                    THEN round(d.total_due * l.late_fee_amount / 100, {money_places})
                    ELSE round(l.late_fee_amount, {money_places}) END,
               COALESCE(l.late_fee_cap, 'Infinity'::numeric))) AS fee,
           nextval(pg_get_serial_sequence('servicing_journalentry', 'id')) AS entry_id
      FROM due d
      JOIN servicing_loan l ON l.id = d.loan_id
      JOIN servicing_scheduleversion sv ON sv.id = d.schedule_id AND sv.is_current
     CROSS JOIN LATERAL (  -- what this and the earlier installments lack; the oldest unpaid
           SELECT COALESCE(SUM({remaining_p}) FILTER (WHERE {remaining_p} > 0), 0) AS shortfall,
                  MIN(p.number) FILTER (WHERE {remaining_p} > 0) AS oldest
             FROM servicing_installment p
            WHERE p.schedule_id = d.schedule_id AND p.number <= d.number) u
     CROSS JOIN LATERAL (  -- late fees paid since the due date before the oldest unpaid one
           SELECT COALESCE(SUM(pa.late_fees), 0) AS paid
             FROM servicing_paymentapplication pa
            WHERE pa.loan_id = d.loan_id AND NOT pa.reversed
              AND pa.effective_date > COALESCE(
                  (SELECT b.due_date FROM servicing_installment b
                    WHERE b.schedule_id = d.schedule_id AND b.number = u.oldest - 1),
                  l.disbursed_on)
              AND pa.effective_date <= %(day)s) lp
     WHERE {scope} AND l.status = 'active' AND l.late_fee_amount > 0
       AND %(day)s - d.due_date > l.late_fee_grace_days AND d.remaining > 0
       AND u.shortfall > lp.paid
),
ent AS (
    INSERT INTO servicing_journalentry
           (id, business_date, effective_date, entry_type, loan_id, reference, memo, created_at)
    SELECT c.entry_id, %(bd)s, %(day)s, '{fee_type}', c.loan_id, c.loan_number,
           left('late fee: ' || c.reason, 255), now()
      FROM c WHERE c.fee > 0
    RETURNING 1
),
lin AS (
    INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
    SELECT c.entry_id, c.loan_id, v.account, CASE WHEN v.dr THEN c.fee ELSE 0 END,
           CASE WHEN v.dr THEN 0 ELSE c.fee END
      FROM c CROSS JOIN (VALUES ('{fees_account}', true), ('{fee_income_account}', false))
           v(account, dr)
     WHERE c.fee > 0
    RETURNING 1
),
fee AS (
    INSERT INTO servicing_fee (loan_id, kind, amount, paid_amount, waived_amount,
                               reversed_amount, assessed_on, installment_id, reason, entry_id,
                               created_at)
    SELECT c.loan_id, '{late}', c.fee, 0, 0, 0, %(day)s, c.id, left(c.reason, 255), c.entry_id,
           now()
      FROM c WHERE c.fee > 0
    RETURNING id, loan_id, amount, reason
),
wh AS (  -- the webhooks' fee.assessed events (lendcore.webhooks outbox), as fees.py writes
    {outbox_insert}
    SELECT {outbox_uid}, 'fee.assessed', fee.loan_id,
           jsonb_build_object('loan_id', fee.loan_id, 'loan_number', l.loan_number,
                              'fee_id', fee.id, 'kind', '{late}', 'amount', fee.amount::text,
                              'assessed_on', to_char(%(day)s::date, 'YYYY-MM-DD')),
           now()
      FROM fee JOIN servicing_loan l ON l.id = fee.loan_id
    RETURNING 1
),
ev AS (
    INSERT INTO servicing_loanevent
           (loan_id, kind, from_status, to_status, reason, data, business_date, created_at)
    SELECT fee.loan_id, 'fee', '', '', fee.reason,
           jsonb_build_object('fee', fee.id, 'kind', '{late}', 'amount', fee.amount::text),
           %(bd)s, now()
      FROM fee
    RETURNING 1
),
bal AS (
    UPDATE servicing_loan l SET fees_balance = l.fees_balance + t.total
      FROM (SELECT c.loan_id, SUM(c.fee) AS total FROM c WHERE c.fee > 0 GROUP BY c.loan_id) t
     WHERE l.id = t.loan_id AND l.id BETWEEN %(lo)s AND %(hi)s
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM fee), (SELECT COUNT(*) FROM ent), (SELECT COUNT(*) FROM lin),
       (SELECT COUNT(*) FROM ev), (SELECT COUNT(*) FROM bal)
"""


def late_fees(scope: Scope) -> int:
    """A late fee per installment due date that draws one (`calculations.late_fee_due`: past
    its grace days, unpaid, not only because an earlier late fee took part of a full
    payment), of the loan's policy (`calculations.late_fee_amount`), once, with its journal
    entry and loan event, and the loans' fee balances. PostgreSQL: one statement; elsewhere
    `fees.late_fees_charge`, which it is pinned to. After `transitions`, every unpaid
    installment past its grace days is `overdue`."""
    if not is_postgres():
        return len(
            late_fees_charge(
                installments=scope.installments(), day=scope.day, business_date=scope.business_date
            )
        )
    where, params = scope.sql("l")
    sql = sql_text(
        LATE_FEES_SQL,
        scope=where,
        remaining_i=remaining_sql("i"),
        remaining_p=remaining_sql("p"),
        percent="percent",
        outbox_insert=OUTBOX_INSERT_SQL,
        outbox_uid=OUTBOX_UID_SQL,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])
