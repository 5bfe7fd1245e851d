"""Staff pages beside the admin's model pages: the provisioning dashboard."""

from datetime import timedelta
from typing import Any

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from provisioning.expiry import EXPIRY_JOB
from provisioning.refresh import REFRESH_JOB
from provisioning.selectors import FunnelRow, job_run_latest, provisioning_funnel

PERIODS = (7, 30, 90)
CHART_WIDTH = 600
BAR_HEIGHT = 28


def _funnel_bars(row: FunnelRow) -> list[dict[str, Any]]:
    """The four stages as SVG bars, each as wide as its share of the pushes started."""
    top = max(row.started, 1)
    return [
        {"label": label, "value": value, "y": index * (BAR_HEIGHT + 8), "width": round(CHART_WIDTH * value / top)}
        for index, (label, value) in enumerate(row.stages)
    ]


def _daily_bars(days: list[tuple[Any, FunnelRow]]) -> list[dict[str, Any]]:
    top = max((row.started for _, row in days), default=1) or 1
    slot = CHART_WIDTH / max(len(days), 1)
    return [
        {
            "day": day,
            "x": round(index * slot, 1),
            "width": max(min(round(slot * 0.8, 1), 40), 1),
            "started": round(120 * row.started / top),
            "added": round(120 * row.added / top),
            "row": row,
        }
        for index, (day, row) in enumerate(days)
    ]


def dashboard(request: HttpRequest, site: AdminSite) -> HttpResponse:
    if not request.user.has_perm("provisioning.view_pushrequest"):
        raise PermissionDenied
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    until = timezone.now()
    funnel = provisioning_funnel(since=until - timedelta(days=days), until=until)
    context = {
        **site.each_context(request),
        "title": "Provisioning dashboard",
        "days": days,
        "periods": PERIODS,
        "funnel": funnel,
        "total_bars": _funnel_bars(funnel.total),
        "chart_width": CHART_WIDTH,
        "funnel_height": 4 * (BAR_HEIGHT + 8),
        "bar_height": BAR_HEIGHT,
        "daily_bars": _daily_bars(funnel.by_day),
        "last_refresh": job_run_latest(REFRESH_JOB),
        "last_expiry": job_run_latest(EXPIRY_JOB),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
