"""Read use cases of push provisioning."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from provisioning.models import JobRun, PushReceipt, PushRequest

_FUNNEL = {
    "started": Count("id", distinct=True),
    "redirected": Count("id", distinct=True, filter=Q(redirected_at__isnull=False)),
    "returned": Count("id", distinct=True, filter=Q(returned_at__isnull=False)),
    "added": Count("id", distinct=True, filter=Q(receipts__result=PushReceipt.Result.APPROVED)),
}


@dataclass(frozen=True)
class FunnelRow:
    label: str
    started: int
    redirected: int
    returned: int
    added: int

    @property
    def stages(self) -> list[tuple[str, int]]:
        return [
            ("Started", self.started),
            ("Sent to the wallet or merchant", self.redirected),
            ("Came back", self.returned),
            ("Added", self.added),
        ]


@dataclass(frozen=True)
class Funnel:
    total: FunnelRow
    by_requestor: list[FunnelRow]
    by_day: list[tuple[date, FunnelRow]]


def _pushes(since: datetime, until: datetime) -> QuerySet[PushRequest]:
    return PushRequest.objects.filter(created_at__gte=since, created_at__lt=until).order_by()


def provisioning_funnel(*, since: datetime, until: datetime) -> Funnel:
    """Pushes started → redirected → returned → added, in total, per token requestor and per day (3 queries)."""
    total = _pushes(since, until).aggregate(**_FUNNEL)
    per_requestor = (
        _pushes(since, until)
        .values("token_requestor__consumer_facing_name")
        .annotate(**_FUNNEL)
        .order_by("-started", "token_requestor__consumer_facing_name")
    )
    per_day = (
        _pushes(since, until).annotate(day=TruncDate("created_at")).values("day").annotate(**_FUNNEL).order_by("day")
    )
    stages = list(_FUNNEL)
    return Funnel(
        total=FunnelRow("All token requestors", *(total[name] or 0 for name in stages)),
        by_requestor=[
            FunnelRow(row["token_requestor__consumer_facing_name"], *(row[name] for name in stages))
            for row in per_requestor
        ],
        by_day=[(row["day"], FunnelRow(str(row["day"]), *(row[name] for name in stages))) for row in per_day],
    )


def job_run_latest(job: str) -> JobRun | None:
    return JobRun.objects.filter(job=job).exclude(state=JobRun.State.SKIPPED).order_by("-started_at").first()
