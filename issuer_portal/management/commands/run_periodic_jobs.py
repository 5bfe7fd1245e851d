import time
from datetime import timedelta
from typing import Any

from celery.schedules import schedule as celery_schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from config.celery import app


def _interval(entry: dict[str, Any]) -> timedelta:
    value = entry["schedule"]
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, celery_schedule):
        return value.run_every
    # crontab and other schedules: ask how long until the next run from now
    return timedelta(seconds=max(1.0, value.remaining_estimate(value.now()).total_seconds()))


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of CELERY_BEAT_SCHEDULE in this process, for the embedded set-up without a broker. "
        "With Redis, run `celery -A config beat` and a worker instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every job once now, then exit.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between checks for due jobs.")

    def handle(self, *args: Any, once: bool, tick: float, **options: Any) -> None:
        schedule: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
        last_run: dict[str, float] = {}
        self.stdout.write(f"Periodic jobs: {', '.join(schedule) or 'none'}")
        try:
            while True:
                now = time.monotonic()
                for name, entry in schedule.items():
                    due = name not in last_run or now - last_run[name] >= _interval(entry).total_seconds()
                    if due:
                        last_run[name] = now
                        self._run(name, entry["task"])
                if once:
                    return
                time.sleep(tick)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _run(self, name: str, task_name: str) -> None:
        result = app.tasks[task_name].apply(throw=False)
        if result.failed():
            self.stderr.write(self.style.ERROR(f"{name}: failed: {result.result!r}"))
        else:
            self.stdout.write(f"{name}: {result.result}")
