"""Idempotency keys expire: an index to find the old ones, and an hourly beat entry
(django-celery-beat's database schedule, editable in the admin) that purges them."""

from django.db import migrations, models

TASK_NAME = "Purge expired Idempotency-Keys (hourly)"


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "lendcore.core.tasks.idempotency_keys_purge",
            "interval": hourly,
            "enabled": True,
        },
    )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_audit_event"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="idempotencyrecord",
            index=models.Index(fields=["created_at"], name="idempotency_created_idx"),
        ),
        migrations.RunPython(schedule_create, schedule_delete),
    ]
