import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Request id into tasks, task-failure metric, Django's LOGGING in the worker.
import config.celery_signals  # noqa: E402, F401
