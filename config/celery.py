"""The Celery application. With no broker configured, tasks run in-process (the embedded mode)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kesher")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
