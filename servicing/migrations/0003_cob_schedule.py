"""The nightly close of business: a django-celery-beat database schedule entry.

Beat (`celery -A lendcore beat`, CELERY_BEAT_SCHEDULER = DatabaseScheduler) runs
`servicing.tasks.cob_nightly_task` at COB_SCHEDULE_HOUR:COB_SCHEDULE_MINUTE (settings,
default 23:30) every day; admins can move or disable it in the Django admin.
"""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Close of business (nightly)"


def schedule_create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hour = int(getattr(settings, "COB_SCHEDULE_HOUR", 23))
    minute = int(getattr(settings, "COB_SCHEDULE_MINUTE", 30))
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=str(minute),
        hour=str(hour),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=getattr(settings, "CELERY_TIMEZONE", None) or "UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "servicing.tasks.cob_nightly_task", "crontab": crontab, "enabled": True},
    )


def schedule_delete(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("servicing", "0002_cob"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
