"""The unpaid-installments index reads paid_on, not status, so that no index of the table
holds status and the night's due and overdue transitions are HOT updates (no index written,
the new row version on the same page). A CHECK ties paid_on to status (set exactly when paid),
so "paid_on IS NULL" means "not paid". The table keeps a tenth of each page free for those
row versions (fillfactor 90, PostgreSQL).

Rows written before the engine kept paid_on (if any) are repaired first: an unpaid one loses
its paid_on; a paid one without it gets the loan's last payment date before or on it, else its
due date. The fillfactor applies to pages written from now on; rewrite the table in a quiet
hour (VACUUM FULL servicing_installment, or pg_repack) for the pages already full.
"""

from django.db import migrations, models

REPAIR_SQL = [
    "UPDATE servicing_installment SET paid_on = NULL WHERE status <> 'paid' AND paid_on IS NOT NULL",
    """UPDATE servicing_installment AS i SET paid_on = COALESCE(
           (SELECT MAX(pa.effective_date) FROM servicing_paymentapplication pa
             WHERE pa.loan_id = i.loan_id AND NOT pa.reversed), i.due_date)
     WHERE i.status = 'paid' AND i.paid_on IS NULL""",
]
FILLFACTOR = "ALTER TABLE servicing_installment SET (fillfactor = 90)"
FILLFACTOR_UNDO = "ALTER TABLE servicing_installment RESET (fillfactor)"


def repair_paid_on(apps, schema_editor):
    for sql in REPAIR_SQL:
        schema_editor.execute(sql)


def fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILLFACTOR)


def fillfactor_undo(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILLFACTOR_UNDO)


class Migration(migrations.Migration):
    dependencies = [
        ("servicing", "0023_fk_indexes_led_by_composites"),
    ]

    operations = [
        migrations.RunPython(repair_paid_on, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="installment",
            name="installment_unpaid_due",
        ),
        migrations.AddIndex(
            model_name="installment",
            index=models.Index(
                condition=models.Q(("paid_on__isnull", True)),
                fields=["loan", "due_date"],
                name="installment_unpaid_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="installment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("paid_on__isnull", False), ("status", "paid")),
                    models.Q(models.Q(("status", "paid"), _negated=True), ("paid_on__isnull", True)),
                    _connector="OR",
                ),
                name="installment_paid_on_when_paid",
            ),
        ),
        migrations.RunPython(fillfactor, fillfactor_undo),
    ]
