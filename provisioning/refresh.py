"""Refreshing the eligible token requestors and their logos from MDES (getEligibleTokenRequestors, getAsset).

- One run asks for every account range of the active configuration (the client batches 25 ranges a call),
  upserts the requestors by TRID, replaces their enabled ranges, and retires those MDES no longer returns.
  Staff choices (offered, display order) survive; a retired requestor is no longer offered.
- A logo asset id never changes content, so a known asset is never fetched again.
- Single-flight: a second run while one is under way exits at once and says so (a partial unique index on
  the running JobRun is the lock, so it holds across processes). A failure part way leaves the previous data
  offered; the next run completes it.
- Each requestor is checked on its own (provisioning/requestor_checks.py): one MDES describes oddly is cut, partly
  left out or skipped (its stored version kept, not retired), and the rest are refreshed.
- Every run leaves a JobRun record: started, finished, ranges asked, counts, errors, and warnings about requestors
  cut, partly left out or skipped (warnings alone do not make a run partial: running again soon would not help).
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_record
from provisioning.jobs import job_run_start
from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import MdesError
from provisioning.mdes.types import Asset, EligibleTokenRequestor, UnreadableTokenRequestor
from provisioning.models import EnabledAccountRange, JobRun, LogoAsset, TokenRequestor
from provisioning.requestor_cache import token_requestors_changed
from provisioning.requestor_checks import (
    CheckedRequestor,
    RequestorSkippedError,
    requestor_label,
    token_requestor_checked,
)
from provisioning.selectors import network_configuration_active

REFRESH_JOB = "refresh_token_requestors"
# Fields copied from MDES on every refresh; staff-owned fields (offered, display_order, redirect settings) are not.
SYNCED_FIELDS = (
    "name",
    "consumer_facing_name",
    "requestor_type",
    "wallet_id",
    "image_asset_id",
    "push_methods",
    "supports_multiple_pushed_cards",
    "supported_account_holder_data",
    "supports_cardholder_authentication",
    "supports_token_connect",
    "supports_issuer_initiated_digitization_data",
)

FAILURES_BEFORE_ALERT = 3
PARTIAL_FOLLOW_UP = timedelta(hours=1)

Progress = Callable[[str], None]
logger = logging.getLogger(__name__)


@dataclass
class RefreshCounts:
    ranges_asked: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    retired: int = 0
    skipped: int = 0
    assets_fetched: int = 0
    errors: list[str] = field(default_factory=list)
    # Requestors MDES listed that were cut, partly left out or skipped: for staff, not a reason to run again soon.
    warnings: list[str] = field(default_factory=list)


def _checked(
    eligible: Sequence[EligibleTokenRequestor], unreadable: Sequence[UnreadableTokenRequestor], counts: RefreshCounts
) -> tuple[list[CheckedRequestor], set[str]]:
    """The requestors that can be stored, and the TRIDs of those skipped (kept as last stored, not retired)."""
    checked, skipped = [], set()
    for entry in unreadable:
        trid = entry.token_requestor_id
        counts.warnings.append(f"token requestor {requestor_label(trid)} skipped: {entry.reason}")
        if trid is not None:
            skipped.add(trid)
    for item in eligible:
        try:
            requestor = token_requestor_checked(item)
        except RequestorSkippedError as skip:
            counts.warnings.append(str(skip))
            skipped.add(item.token_requestor_id)
            continue
        counts.warnings.extend(requestor.warnings)
        checked.append(requestor)
    counts.skipped = len(unreadable) + len(eligible) - len(checked)
    return checked, skipped


def _upsert(item: CheckedRequestor, now: Any, counts: RefreshCounts) -> TokenRequestor:
    values = item.values
    requestor = TokenRequestor.objects.select_for_update().filter(trid=item.trid).first()
    if requestor is None:
        requestor = TokenRequestor.objects.create(
            trid=item.trid,
            last_seen_at=now,
            offered=settings.PROVISIONING_OFFER_NEW_TOKEN_REQUESTORS,
            **values,
        )
        counts.added += 1
        audit_event_record(action="token_requestor.added", target=requestor, after=_audit_view(requestor))
    else:
        before = {name: getattr(requestor, name) for name in SYNCED_FIELDS}
        before["retired"] = requestor.retired_at is not None
        changed = {name: value for name, value in values.items() if getattr(requestor, name) != value}
        for name, value in values.items():
            setattr(requestor, name, value)
        requestor.last_seen_at = now
        requestor.retired_at = None
        requestor.save()
        if changed or before["retired"]:
            counts.changed += 1
            audit_event_record(
                action="token_requestor.changed",
                target=requestor,
                before={name: before[name] for name in [*changed, "retired"]},
                after={**changed, "retired": False},
            )
        else:
            counts.unchanged += 1
    known = set(requestor.enabled_ranges.values_list("range_start", flat=True))
    wanted = item.ranges
    if known != wanted:
        requestor.enabled_ranges.filter(range_start__in=known - wanted).delete()
        EnabledAccountRange.objects.bulk_create(
            EnabledAccountRange(token_requestor=requestor, range_start=start) for start in sorted(wanted - known)
        )
    return requestor


def _audit_view(requestor: TokenRequestor) -> dict[str, Any]:
    return {name: getattr(requestor, name) for name in ("trid", "consumer_facing_name", "requestor_type", "offered")}


def _retire_missing(seen: set[str], now: Any, counts: RefreshCounts) -> None:
    for requestor in TokenRequestor.objects.select_for_update().filter(retired_at__isnull=True).exclude(trid__in=seen):
        was_offered = requestor.offered
        requestor.retired_at = now
        requestor.offered = False
        requestor.save(update_fields=["retired_at", "offered"])
        counts.retired += 1
        audit_event_record(
            action="token_requestor.retired",
            target=requestor,
            before={"retired": False, "offered": was_offered},
            after={"retired": True, "offered": False},
            detail="MDES no longer lists this token requestor for the issuer's account ranges.",
        )


def _store_asset(asset: Asset) -> LogoAsset:
    svg = asset.content_of_type("image/svg+xml")
    png = asset.content_of_type("image/png")
    if svg is None and png is None:
        raise ValueError(f"asset {asset.asset_id} has neither an SVG nor a PNG")
    logo, _ = LogoAsset.objects.get_or_create(
        asset_id=asset.asset_id,
        defaults={
            "svg": svg.data.decode("utf-8") if svg else "",
            "png": png.data if png else b"",
            "png_width": png.width if png else None,
            "png_height": png.height if png else None,
        },
    )
    return logo


def _fetch_missing_logos(client: TokenConnectClient, counts: RefreshCounts, progress: Progress) -> None:
    known = set(LogoAsset.objects.values_list("asset_id", flat=True))
    wanted = TokenRequestor.objects.exclude(image_asset_id="").values_list("image_asset_id", flat=True).distinct()
    for asset_id in sorted(set(wanted) - known):
        progress(f"fetching logo {asset_id}")
        try:
            _store_asset(client.get_asset(asset_id))
        except (MdesError, ValueError, UnicodeDecodeError) as exc:
            counts.errors.append(f"logo {asset_id}: {exc}")
            continue
        counts.assets_fetched += 1
    for requestor in TokenRequestor.objects.exclude(image_asset_id="").filter(logo__isnull=True):
        logo = LogoAsset.objects.filter(asset_id=requestor.image_asset_id).first()
        if logo is not None:
            requestor.logo = logo
            requestor.save(update_fields=["logo"])


def refresh_due() -> bool:
    """True when the configured interval has passed since the last run that reached MDES.

    A run that left something undone (a logo it could not fetch) is followed up after an hour, not the interval.
    """
    config = network_configuration_active()
    if config is None:
        return False
    last = (
        JobRun.objects.filter(job=REFRESH_JOB, state__in=[JobRun.State.SUCCEEDED, JobRun.State.PARTIAL])
        .order_by("-started_at")
        .first()
    )
    if last is None:
        return True
    wait = PARTIAL_FOLLOW_UP if last.state == JobRun.State.PARTIAL else timedelta(days=config.refresh_interval_days)
    return timezone.now() - last.started_at >= wait


def _alert_if_failing(run: JobRun) -> None:
    """After several failed runs in a row, staff must hear of it: the cardholder list is getting stale."""
    recent = list(
        JobRun.objects.filter(job=REFRESH_JOB)
        .exclude(state=JobRun.State.SKIPPED)
        .order_by("-started_at")
        .values_list("state", flat=True)[:FAILURES_BEFORE_ALERT]
    )
    if len(recent) == FAILURES_BEFORE_ALERT and all(state == JobRun.State.FAILED for state in recent):
        logger.error("Token requestor refresh failed %d times in a row", FAILURES_BEFORE_ALERT)
        audit_event_record(
            action="token_requestor.refresh_failing",
            target=run,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=f"The last {FAILURES_BEFORE_ALERT} refreshes failed; cardholders see the last good list.",
        )


def token_requestors_refresh(
    *, client: TokenConnectClient | None = None, progress: Progress = lambda message: None
) -> JobRun:
    """Run one refresh and return its record (state `succeeded`, `failed` or `skipped`)."""
    run = job_run_start(REFRESH_JOB)
    if run.state == JobRun.State.SKIPPED:
        return run
    counts = RefreshCounts()
    try:
        config = network_configuration_active()
        if config is None:
            return run.finish(state=JobRun.State.FAILED, detail="No network configuration is active")
        ranges = list(config.account_ranges.values_list("start", flat=True))
        counts.ranges_asked = len(ranges)
        if not ranges:
            return run.finish(state=JobRun.State.FAILED, detail="The active configuration has no account ranges")
        if client is None:
            client = TokenConnectClient.from_configuration(config)
        progress(f"asking MDES for the token requestors of {len(ranges)} account range(s)")
        unreadable: list[UnreadableTokenRequestor] = []
        eligible = client.get_eligible_token_requestors(ranges, unreadable=unreadable.append)
        progress(f"MDES listed {len(eligible) + len(unreadable)} token requestor(s); updating")
        checked, skipped = _checked(eligible, unreadable, counts)
        active = TokenRequestor.objects.filter(retired_at__isnull=True).count()
        if not checked and active:
            # More likely a glitch or a wrong range set than every wallet leaving at once: keep the last good list.
            detail = (
                f"MDES listed no token requestors that can be stored while {active} are active; nothing was retired"
            )
            counts.errors.append(detail)
            return run.finish(state=JobRun.State.FAILED, detail=_detail(counts), counts=counts.__dict__)
        now = timezone.now()
        with transaction.atomic():
            for item in checked:
                _upsert(item, now, counts)
            _retire_missing({item.trid for item in checked} | skipped, now, counts)
        _fetch_missing_logos(client, counts, progress)
    except Exception as exc:
        counts.errors.append(f"{type(exc).__name__}: {exc}")
        run.finish(state=JobRun.State.FAILED, detail=str(exc), counts=counts.__dict__)
        _alert_if_failing(run)
        raise
    finally:
        token_requestors_changed()  # also after a failure: what was stored before it stays stored
    state = JobRun.State.SUCCEEDED if not counts.errors else JobRun.State.PARTIAL
    return run.finish(state=state, counts=counts.__dict__, detail=_detail(counts))


def _detail(counts: RefreshCounts) -> str:
    return "; ".join([*counts.errors, *counts.warnings])
