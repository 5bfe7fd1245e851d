import time
from datetime import datetime
from typing import Any

from celery.schedules import BaseSchedule, maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.celery import app


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of CELERY_BEAT_SCHEDULE in this process, for the embedded set-up without a broker. "
        "With Redis, run `celery -A config beat` and a worker instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every job once now, then exit.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between checks for due jobs.")

    def handle(self, *args: Any, once: bool, tick: float, **options: Any) -> None:
        app.loader.import_default_modules()  # registers every app's tasks, as a worker would at start
        entries: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
        schedules: dict[str, BaseSchedule] = {}
        for name, entry in entries.items():
            parsed = maybe_schedule(entry["schedule"], app=app)
            if not isinstance(parsed, BaseSchedule):
                raise CommandError(f"{name}: unsupported schedule {entry['schedule']!r}")
            schedules[name] = parsed
        last_run: dict[str, datetime] = {}
        self.stdout.write(f"Periodic jobs: {', '.join(entries) or 'none'}\n")
        try:
            while True:
                for name, entry in entries.items():
                    # Celery beat's own rule: a job is due when its schedule says so since its last run.
                    if name not in last_run or schedules[name].is_due(last_run[name]).is_due:
                        last_run[name] = app.now()
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
