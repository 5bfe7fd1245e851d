from typing import Any

from django.core.management.base import BaseCommand, CommandError

from provisioning import refresh
from provisioning.mdes.errors import MdesError
from provisioning.models import JobRun


class Command(BaseCommand):
    help = "Refresh the eligible token requestors and their logos from MDES now, showing progress."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = refresh.token_requestors_refresh(progress=lambda message: self.stdout.write(f"  {message}"))
        except MdesError as exc:
            raise CommandError(f"The refresh failed and changed nothing: {exc}") from exc
        counts = run.counts
        summary = (
            f"{counts.get('added', 0)} added, {counts.get('changed', 0)} changed, "
            f"{counts.get('unchanged', 0)} unchanged, {counts.get('retired', 0)} retired, "
            f"{counts.get('skipped', 0)} skipped, {counts.get('assets_fetched', 0)} logo(s) fetched"
        )
        for warning in counts.get("warnings", []):
            self.stdout.write(self.style.WARNING(f"  {warning}"))
        if run.state == JobRun.State.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(f"Refreshed: {summary}."))
        elif run.state == JobRun.State.PARTIAL:
            errors = "; ".join(counts.get("errors", []))
            self.stdout.write(self.style.WARNING(f"Refreshed with errors: {summary}. {errors}"))
        else:
            raise CommandError(f"The refresh did not run: {run.detail}")
