"""Read use cases of push provisioning."""

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from cardholders.models import Card
from provisioning.devices import usable_push_method_types
from provisioning.models import (
    AccountRange,
    CardToken,
    CardTokenCheck,
    DeviceEnvironment,
    JobRun,
    NetworkCheck,
    NetworkConfiguration,
    PushReceipt,
    PushRequest,
    TokenRequestor,
)
from provisioning.requestor_cache import eligible_cached
from users.models import User

MAX_CARDS_PER_PUSH = 5  # MDES: up to 5 receipts when the token requestor supports several pushed cards


def cards_chosen_for_push(*, user: User, ids: Iterable[object]) -> list[Card]:
    """The signed-in cardholder's cards among `ids`, in every state, in a stable order; fewer than asked when some
    are not theirs. Every interface asks this, so a card that is not active reaches the push, which says why it
    cannot go (PushErrorCode.CARD_STATE), rather than disappearing from one interface and not another."""
    valid = []
    for value in list(ids)[: MAX_CARDS_PER_PUSH + 1]:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    cards = Card.objects.filter(cardholder__user=user, public_id__in=valid).select_related("program")
    return list(cards.order_by("product_name", "id"))


# For a card whose tokens the network was never asked about in full, a push the token requestor confirmed is the
# best sign that it is there.
CONFIRMED_RESULTS = (PushReceipt.Result.APPROVED, PushReceipt.Result.DUPLICATE_REQUEST)
# A token in these states puts the card in the wallet or at the merchant (being set up does not, yet).
HOLDING_STATUSES = (CardToken.Status.ACTIVE, CardToken.Status.SUSPENDED)


def token_requestors_holding_cards(*, cards: Sequence[Card]) -> dict[int, dict[int, datetime]]:
    """Where the cards already are: token requestor id -> {card id -> since when} (2 queries).

    The one rule for "already in this wallet": a live token of the card there, active or paused, as the network last
    described it. Only for a card the network was never asked about in full (no answered CardTokenCheck) does a
    confirmed push (APPROVED or DUPLICATE_REQUEST) count too, and then not at a requestor where the card has a token
    record: the record says what became of it.
    """
    holding: dict[int, dict[int, datetime]] = {}
    recorded: set[tuple[int, int]] = set()
    # Rows, not model instances: this runs on every wallet page.
    records = (
        CardToken.objects.filter(card__in=cards, token_requestor__isnull=False)
        .order_by()
        .values_list(
            "token_requestor_id", "card_id", "status", "deleted_from_consumer_app", "status_at", "first_seen_at"
        )
    )
    for requestor_id, card_id, status, removed_from_device, status_at, first_seen_at in records:
        recorded.add((requestor_id, card_id))
        live = status != CardToken.Status.DELETED and not removed_from_device  # CardToken.is_live
        if live and status in HOLDING_STATUSES:
            since = min(moment for moment in (status_at, first_seen_at) if moment is not None)
            there = holding.setdefault(requestor_id, {})
            there[card_id] = min(since, there.get(card_id, since))
    checked = CardTokenCheck.objects.filter(card__in=cards, checked_at__isnull=False).values_list("card_id", flat=True)
    confirmed = (
        PushReceipt.objects.filter(card__in=cards, state=PushReceipt.State.USED, result__in=CONFIRMED_RESULTS)
        .exclude(card_id__in=checked)
        .values_list("push__token_requestor_id", "card_id", "used_at")
        .order_by("used_at")
    )
    for requestor_id, card_id, used_at in confirmed:
        if (requestor_id, card_id) not in recorded:
            holding.setdefault(requestor_id, {}).setdefault(card_id, used_at)  # type: ignore[arg-type]  # a used receipt has used_at
    return holding


def network_configuration_active() -> NetworkConfiguration | None:
    return NetworkConfiguration.objects.filter(is_active=True).first()


def account_range_starts_active() -> list[str]:
    """The starts of the account ranges of the active network configuration (none without one)."""
    return list(AccountRange.objects.filter(configuration__is_active=True).values_list("start", flat=True))


def account_ranges_as_configured(padded_starts: Iterable[str]) -> list[str]:
    """MDES's 19-digit range starts as staff configured them in the active configuration (zeros at the end can be
    part of a range, so they are never stripped); a start not configured there as MDES reports it."""
    configured = {r.padded_start: r.start for r in AccountRange.objects.filter(configuration__is_active=True)}
    return [configured.get(start, start) for start in sorted(padded_starts)]


# The funnel counts outcomes by the network's word (a receipt whose network check confirmed or corrected what the
# browser reported). An outcome still being checked, or that could not be checked (the browser's report alone, or a
# receipt from before the checks), is counted apart and never as added.
NETWORK_WORD = (NetworkCheck.CONFIRMED, NetworkCheck.CORRECTED)
ADDED_RESULTS = (PushReceipt.Result.APPROVED, PushReceipt.Result.AUTHENTICATED)
_CHECKING = Q(receipts__state=PushReceipt.State.USED, receipts__network_check=NetworkCheck.PENDING)
_UNCHECKED = Q(receipts__state=PushReceipt.State.USED) & ~Q(
    receipts__network_check__in=(*NETWORK_WORD, NetworkCheck.PENDING)
)

_FUNNEL = {
    "started": Count("id", distinct=True),
    "redirected": Count("id", distinct=True, filter=Q(redirected_at__isnull=False)),
    "returned": Count("id", distinct=True, filter=Q(returned_at__isnull=False)),
    "added": Count(
        "id", distinct=True, filter=Q(receipts__result__in=ADDED_RESULTS, receipts__network_check__in=NETWORK_WORD)
    ),
    "checking": Count("id", distinct=True, filter=_CHECKING),
    "unchecked": Count("id", distinct=True, filter=_UNCHECKED),
}


@dataclass(frozen=True)
class FunnelRow:
    label: str
    started: int
    redirected: int
    returned: int
    added: int  # confirmed by the network
    checking: int = 0  # pushes with an outcome the network is still being asked about
    unchecked: int = 0  # pushes with an outcome the network could not be asked about

    @property
    def stages(self) -> list[tuple[str, int]]:
        return [
            ("Started", self.started),
            ("Sent to the wallet or merchant", self.redirected),
            ("Came back", self.returned),
            ("Added (confirmed)", self.added),
        ]

    @property
    def conversions(self) -> list[tuple[str, int, int | None]]:
        """Each stage with its share of the stage before, in whole percent (None for the first, or after 0)."""
        values = [value for _, value in self.stages]
        return [
            (label, value, None if index == 0 or not values[index - 1] else round(100 * value / values[index - 1]))
            for index, (label, value) in enumerate(self.stages)
        ]

    @property
    def added_share(self) -> int | None:
        """Pushes that ended in "Added" by the network's word, in whole percent of those started."""
        return round(100 * self.added / self.started) if self.started else None


@dataclass(frozen=True)
class Funnel:
    total: FunnelRow
    by_requestor: list[FunnelRow]
    by_day: list[tuple[date, FunnelRow]]


def _pushes(since: datetime, until: datetime) -> QuerySet[PushRequest]:
    return PushRequest.objects.filter(created_at__gte=since, created_at__lt=until).order_by()


def provisioning_funnel(*, since: datetime, until: datetime) -> Funnel:
    """Pushes started → redirected → returned → added (by the network's word), with those whose outcome is still
    being checked or could not be checked, in total, per token requestor and per day (3 queries)."""
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


# Why a card did not end in "Added" by the network's word, as staff read it, in the order the dashboard shows them:
# the network's (or the token requestor's confirmed) result, what happened to the receipt, or the check itself.
NOT_ADDED_REASONS: dict[str, str] = {
    PushReceipt.Result.DECLINED: "Declined",
    PushReceipt.Result.CANCELLED: "Cancelled",
    PushReceipt.Result.DUPLICATE_REQUEST: "Already there (duplicate)",
    PushReceipt.Result.ERROR: "Error at the token requestor",
    PushReceipt.Result.REQUIRE_ADDITIONAL_AUTHENTICATION: "Needs more verification",
    PushReceipt.State.EXPIRED: "Expired before use",
    PushReceipt.State.REFUSED: "Refused by MDES",
    PushReceipt.Result.NOT_ADDED: "No token at the network",
    PushReceipt.Result.DELETED: "Not kept by the merchant",
    NetworkCheck.PENDING: "Still being checked with the network",
    NetworkCheck.UNCHECKED: "Could not be checked with the network",
}


def _not_added_reason(result: str, state: str, check: str) -> str | None:
    """The reason of NOT_ADDED_REASONS for one receipt; None when it was added, or is still on its way."""
    if state != PushReceipt.State.USED:
        return NOT_ADDED_REASONS.get(state)
    if check == NetworkCheck.PENDING:
        return NOT_ADDED_REASONS[NetworkCheck.PENDING]
    if check not in NETWORK_WORD:
        return NOT_ADDED_REASONS[NetworkCheck.UNCHECKED]
    return NOT_ADDED_REASONS.get(result)


@dataclass(frozen=True)
class ReasonRow:
    label: str  # a token requestor's name or a day
    counts: dict[str, int]  # reason label -> cards

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _reason_rows(rows: Iterable[dict[str, object]], key: str) -> list[ReasonRow]:
    grouped: dict[str, dict[str, int]] = {}
    for row in rows:
        reason = _not_added_reason(str(row["result"]), str(row["state"]), str(row["network_check"]))
        if reason is None:
            continue
        counts = grouped.setdefault(str(row[key]), dict.fromkeys(NOT_ADDED_REASONS.values(), 0))
        counts[reason] += int(str(row["cards"]))
    return [ReasonRow(label, counts) for label, counts in grouped.items()]


def not_added_reasons(*, since: datetime, until: datetime) -> tuple[list[ReasonRow], list[ReasonRow]]:
    """Cards of pushes started in the period that did not end in "Added" by the network's word, by reason: per
    token requestor and per day (2 queries)."""
    receipts = PushReceipt.objects.filter(push__created_at__gte=since, push__created_at__lt=until).order_by()
    per_requestor = (
        receipts.values("push__token_requestor__consumer_facing_name", "result", "state", "network_check")
        .annotate(cards=Count("id"))
        .order_by("push__token_requestor__consumer_facing_name")
    )
    per_day = (
        receipts.annotate(day=TruncDate("push__created_at"))
        .values("day", "result", "state", "network_check")
        .annotate(cards=Count("id"))
        .order_by("day")
    )
    return _reason_rows(per_requestor, "push__token_requestor__consumer_facing_name"), _reason_rows(per_day, "day")


def job_run_latest(job: str) -> JobRun | None:
    return JobRun.objects.filter(job=job).exclude(state=JobRun.State.SKIPPED).order_by("-started_at").first()


def token_requestors_eligible(*, cards: Sequence[Card], device: str) -> list[TokenRequestor]:
    """Token requestors the cardholder may push `cards` to from `device`, in the staff's order.

    Offered by staff, not retired, in Token Connect, enabled for every card's account range, with a push method
    usable on the device, and able to take that many cards at once. Reads only the stored list (no network), and
    that from the cache until a refresh or a staff edit changes it (`provisioning/requestor_cache.py`).
    """
    if not cards or len(cards) > MAX_CARDS_PER_PUSH:
        return []
    range_starts = {card.account_range_start for card in cards}
    several = len(cards) > 1

    def read() -> list[TokenRequestor]:
        candidates = TokenRequestor.objects.filter(offered=True, retired_at__isnull=True, supports_token_connect=True)
        for range_start in range_starts:
            candidates = candidates.filter(enabled_ranges__range_start=range_start)
        if several:
            candidates = candidates.filter(supports_multiple_pushed_cards=True)
        usable = set(usable_push_method_types(device))
        ordered = candidates.select_related("logo").order_by("display_order", "consumer_facing_name").distinct()
        return [
            requestor for requestor in ordered if usable & {method.get("type") for method in requestor.push_methods}
        ]

    return eligible_cached(range_starts=range_starts, device=device, several=several, read=read)


@dataclass(frozen=True)
class RequestorChoice:
    """One wallet or merchant on the choice step: the chosen cards already in it (with when), and whether it is
    the one selected to begin with."""

    requestor: TokenRequestor
    cards_there: list[tuple[Card, datetime]]
    preselected: bool = False


def token_requestor_choices(
    *, cards: Sequence[Card], device: str, set_apart_trids: Collection[str] = ()
) -> list[RequestorChoice]:
    """The eligible token requestors (`token_requestors_eligible`), each with the cards already in it; preselected
    is the first, in the staff's order, that does not hold every card yet, preferring on a phone a wallet with the
    phone's own app (the phone's own wallet rather than a web page). `set_apart_trids`: requestors the page shows
    in a place of their own (Click to Pay), listed too but never preselected."""
    requestors = token_requestors_eligible(cards=cards, device=device)
    holding = token_requestors_holding_cards(cards=cards)
    there = {
        r.pk: [(card, holding[r.pk][card.pk]) for card in cards if card.pk in holding.get(r.pk, {})] for r in requestors
    }
    open_ones = [r for r in requestors if len(there[r.pk]) < len(cards) and r.trid not in set_apart_trids]
    own_app = [
        r
        for r in open_ones
        if device != DeviceEnvironment.WEB
        and r.requestor_type == TokenRequestor.Type.WALLET
        and device in {method.get("type") for method in r.push_methods}
    ]
    listed = [r for r in requestors if r.trid not in set_apart_trids]
    first = next(iter(own_app or open_ones or listed), None)
    return [RequestorChoice(r, there[r.pk], preselected=r == first) for r in requestors]


def token_requestor_chosen(value: str) -> TokenRequestor | None:
    """The token requestor a form names by its id, or None for anything else (blank, not a number, unknown)."""
    value = value.strip()
    return TokenRequestor.objects.filter(pk=int(value)).first() if value.isdigit() and len(value) < 19 else None


def tokens_of_cards(cards: Sequence[Card]) -> dict[int, list[CardToken]]:
    """The live and removed tokens of these cards, newest first, with their requestor and its logo (one query)."""
    by_card: dict[int, list[CardToken]] = {card.pk: [] for card in cards}
    for token in CardToken.objects.filter(card__in=cards).select_related("token_requestor__logo"):
        by_card[token.card_id].append(token)
    return by_card


def card_token_of_user(*, user: User, public_id: uuid.UUID | str) -> CardToken | None:
    """A token of one of the signed-in person's own cards that can still be used; None for anyone else's."""
    return (
        CardToken.objects.filter(public_id=public_id, card__cardholder__user=user)
        .exclude(card__state=Card.State.CLOSED)
        .select_related("card__cardholder", "card__program", "token_requestor__logo")
        .first()
    )
