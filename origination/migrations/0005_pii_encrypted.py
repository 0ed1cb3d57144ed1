"""The applicant's date of birth is stored encrypted like the SSN (issue 10, point 10): a new
`date_of_birth_encrypted` column, every existing row encrypted (`lendcore.core.crypto`, the
ISO date), then the clear column dropped. Reversible: going back decrypts into the old column."""

from datetime import date

from django.db import migrations, models

from lendcore.core import crypto

BATCH = 500


def encrypt_dates(apps, schema_editor):
    Applicant = apps.get_model("origination", "Applicant")
    rows = Applicant.objects.filter(date_of_birth_encrypted="").order_by("pk")
    while chunk := list(rows.only("pk", "date_of_birth")[:BATCH]):
        for applicant in chunk:
            applicant.date_of_birth_encrypted = crypto.encrypt(applicant.date_of_birth.isoformat())
        Applicant.objects.bulk_update(chunk, ["date_of_birth_encrypted"])


def decrypt_dates(apps, schema_editor):
    Applicant = apps.get_model("origination", "Applicant")
    for applicant in Applicant.objects.only("pk", "date_of_birth_encrypted").iterator():
        applicant.date_of_birth = date.fromisoformat(
            crypto.decrypt(applicant.date_of_birth_encrypted)
        )
        applicant.save(update_fields=["date_of_birth"])


class Migration(migrations.Migration):

    dependencies = [
        ('origination', '0004_borrower_invitations'),
    ]

    operations = [
        migrations.AddField(
            model_name='applicant',
            name='date_of_birth_encrypted',
            field=models.TextField(default=''),
            preserve_default=False,
        ),
        # Back to clear: the old column comes back nullable, is filled, then tightened.
        migrations.AlterField(
            model_name='applicant',
            name='date_of_birth',
            field=models.DateField(null=True),
        ),
        migrations.RunPython(encrypt_dates, decrypt_dates),
        migrations.RemoveField(
            model_name='applicant',
            name='date_of_birth',
        ),
    ]
