"""The routing numbers of autopay enrolments and rail transfers are stored encrypted like the
account numbers (issue 10, point 10): a new `routing_number_encrypted` column on each, every
existing value encrypted (`lendcore.core.crypto`), then the clear column dropped. Reversible:
going back decrypts into the old column."""

from django.db import migrations, models

from lendcore.core import crypto

BATCH = 500
MODELS = ("AutopayEnrolment", "RailTransfer")


def encrypt_routing(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("servicing", name)
        rows = model.objects.exclude(routing_number="").filter(routing_number_encrypted="")
        while chunk := list(rows.order_by("pk").only("pk", "routing_number")[:BATCH]):
            for row in chunk:
                row.routing_number_encrypted = crypto.encrypt(row.routing_number)
            model.objects.bulk_update(chunk, ["routing_number_encrypted"])


def decrypt_routing(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("servicing", name)
        rows = model.objects.exclude(routing_number_encrypted="")
        for row in rows.only("pk", "routing_number_encrypted").iterator():
            row.routing_number = crypto.decrypt(row.routing_number_encrypted)
            row.save(update_fields=["routing_number"])


class Migration(migrations.Migration):

    dependencies = [
        ('servicing', '0012_cob_run_event'),
    ]

    operations = [
        migrations.AddField(
            model_name='autopayenrolment',
            name='routing_number_encrypted',
            field=models.TextField(blank=True, default=''),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='railtransfer',
            name='routing_number_encrypted',
            field=models.TextField(blank=True, default=''),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt_routing, decrypt_routing),
        migrations.RemoveField(
            model_name='autopayenrolment',
            name='routing_number',
        ),
        migrations.RemoveField(
            model_name='railtransfer',
            name='routing_number',
        ),
    ]
