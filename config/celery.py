"""The Celery application: configured from Django settings (CELERY_* names), tasks found in each app."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs: object) -> None:
    """Workers log exactly like the web process (JSON, card numbers masked)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
