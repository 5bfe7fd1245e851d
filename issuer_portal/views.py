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
from provisioning.selectors import (
    NOT_ADDED_REASONS,
    FunnelRow,
    ReasonRow,
    job_run_latest,
    not_added_reasons,
    provisioning_funnel,
)

PERIODS = (7, 30, 90)
CHART_WIDTH = 600
BAR_HEIGHT = 28
# One colour per reason, in NOT_ADDED_REASONS' order; distinguishable, each at least 3:1 against white.
REASON_COLOURS = (
    "#b3261e",
    "#7a5900",
    "#5b6472",
    "#8e24aa",
    "#00796b",
    "#c2185b",
    "#3949ab",
    "#e65100",
    "#5d4037",
    "#0277bd",
    "#2e7d32",
)


def _reason_bars(rows: list[ReasonRow]) -> list[dict[str, Any]]:
    """Per row, one stacked SVG bar of its reasons, as wide as its share of the largest row's total."""
    top = max((row.total for row in rows), default=1) or 1
    bars = []
    for index, row in enumerate(rows):
        x, segments = 0.0, []
        for (label, count), colour in zip(row.counts.items(), REASON_COLOURS, strict=True):
            width = CHART_WIDTH * count / top
            if count:
                segments.append(
                    {"x": round(x, 1), "width": round(width, 1), "colour": colour, "label": label, "count": count}
                )
            x += width
        bars.append({"row": row, "y": index * (BAR_HEIGHT + 8), "segments": segments, "end": round(x, 1)})
    return bars


def _funnel_bars(row: FunnelRow) -> list[dict[str, Any]]:
    """The four stages as SVG bars, each as wide as its share of the pushes started, with its share of the step
    before (the conversion between the two)."""
    top = max(row.started, 1)
    return [
        {
            "label": label,
            "value": value,
            "share": share,
            "y": index * (BAR_HEIGHT + 8),
            "width": round(CHART_WIDTH * value / top),
        }
        for index, (label, value, share) in enumerate(row.conversions)
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
    by_requestor, by_day = not_added_reasons(since=until - timedelta(days=days), until=until)
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
        "reason_legend": list(zip(NOT_ADDED_REASONS.values(), REASON_COLOURS, strict=True)),
        "reason_bars": _reason_bars(by_requestor),
        "reason_height": max(len(by_requestor), 1) * (BAR_HEIGHT + 8),
        "reasons_by_day": by_day,
        "daily_top": max((row.started for _, row in funnel.by_day), default=0),
        "last_refresh": job_run_latest(REFRESH_JOB),
        "last_expiry": job_run_latest(EXPIRY_JOB),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
