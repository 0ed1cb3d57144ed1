"""The Celery application. Workers: `celery -A lendcore worker`; beat: `celery -A lendcore beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lendcore.settings.local")

app = Celery("lendcore")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
