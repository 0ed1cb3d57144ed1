"""Tasks the broker refused (Redis down) are kept, and a beat entry (every minute, editable
in the admin) sends them once it is back (lendcore.core.broker)."""

from django.db import migrations, models

TASK_NAME = "Send the tasks kept while the broker was down (every minute)"


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "lendcore.core.tasks.pending_tasks_send",
            "interval": every_minute,
            "enabled": True,
        },
    )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_idempotency_purge"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingTask",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("args", models.JSONField(default=list)),
                ("options", models.JSONField(default=dict)),
                ("error", models.CharField(blank=True, max_length=500)),
                ("attempts", models.PositiveIntegerField(default=1)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(schedule_create, schedule_delete),
    ]
