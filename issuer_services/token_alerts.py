""" "Was this you?": when one of a cardholder's cards becomes active in a wallet or at a merchant the portal did not
push it to, the cardholder gets a message naming the wallet, the device and the card, with a single-use link to a
page where one click suspends that token.

- Raised by notifyServiceActivated and notifyTokenUpdated when a token becomes active, in their transaction: one
  alert per token (`TokenAlert`, one-to-one), so a duplicate notification raises nothing more.
- Not the portal's push: no receipt of the portal names the token, and it is not a push (MDES's source
  ACCOUNT_ADDED_VIA_APPLICATION, or no question at all) of this card to this token requestor that the portal made
  within the decision rules' `push_match_minutes`. A card typed in by hand counts even when the cardholder proved
  it with a code or approved it: the point is a token they may not have made, and "It was me" closes the message.
  Tokens at merchants (cards on file) count too: one a fraudster made there is no less worth knowing.
- Sent off the request path: a Celery task after the commit, and, for any it did not send (the broker or the
  message backend down), the minutely sweep, with backoff, up to MAX_ATTEMPTS tries; the row is the queue.
- The link: 32 random bytes made when the message is sent, kept only as a SHA-256 digest, working for
  ISSUER_SERVICES_ALERT_LINK_DAYS, spent by its first use. Suspending is the safe direction, so the link alone may
  do it (reason code T, suspected fraud); resuming needs the cardholder's pages (sign-in and a second factor).

Every step is an audit event (`token_alert.*`; the suspension itself is `token.suspended`).
"""

import enum
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Card
from core.messaging import Message, MessageNotSentError, message_send
from issuer_services.activation_methods import code_channels
from issuer_services.decisions import PUSH_SOURCE
from issuer_services.models import DecisionRules, TokenAlert, TokenizationRequest
from provisioning.models import CardToken, PushReceipt
from provisioning.places import TokenPlace
from provisioning.tokens import TokenActor, TokenChangeRefused, TokenChangeUnknown, token_suspend

logger = logging.getLogger(__name__)

State = TokenAlert.State
MAX_ATTEMPTS = 8  # backoff 2, 4, 8 … 256 minutes: some eight hours of trying before staff must step in
# The task after the commit sends first; the sweep takes an alert only once the task had this long.
TASK_HEAD_START = timedelta(minutes=1)


class Reason(enum.StrEnum):
    TYPED_IN = "typed_in"  # MDES asked about it, and it was not a push
    NOT_PUSHED = "not_pushed"  # no push of the portal's matches it


# --- raising -------------------------------------------------------------------------------------------------------
def _recent_push(token: CardToken, before: datetime) -> bool:
    """A receipt of the portal for this card and requestor within the rules' window (and not one that names
    another token)."""
    if not token.trid:
        return False
    since = before - timedelta(minutes=DecisionRules.current().push_match_minutes)
    receipts = PushReceipt.objects.filter(
        card_id=token.card_id, push__token_requestor__trid=token.trid, created_at__gte=since, created_at__lte=before
    ).exclude(state=PushReceipt.State.REFUSED)
    other_token = Q(token_unique_reference__isnull=False) & ~Q(token_unique_reference=token.token_unique_reference)
    return receipts.exclude(other_token).exists()


def _not_pushed_because(token: CardToken) -> Reason | None:
    """Why the token is not the portal's push, or None when it is."""
    if PushReceipt.objects.filter(token_unique_reference=token.token_unique_reference).exists():
        return None
    asked = TokenizationRequest.objects.filter(token_unique_reference=token.token_unique_reference).first()
    if asked is not None and asked.source != PUSH_SOURCE:
        return Reason.TYPED_IN  # whatever the portal pushed lately, this card was typed in (or was on file)
    return None if _recent_push(token, asked.created_at if asked else timezone.now()) else Reason.NOT_PUSHED


def token_alert_raise(token: CardToken, *, status_before: str | None) -> TokenAlert | None:
    """Called by the notifications, in their transaction with the token locked, after a change of `token`: an
    alert when it just became active from being set up (not when a suspension ended), was not pushed by the
    portal and has none yet."""
    if status_before != CardToken.Status.IN_PROGRESS or token.status != CardToken.Status.ACTIVE:
        return None
    if TokenAlert.objects.filter(token=token).exists():
        return None
    card = Card.objects.select_related("cardholder").get(pk=token.card_id)
    if card.cardholder is None:
        return None  # a card handed out by landing link: nobody on file to tell
    reason = _not_pushed_because(token)
    if reason is None:
        return None
    alert = TokenAlert.objects.create(token=token, reason=reason, next_attempt_at=timezone.now() + TASK_HEAD_START)
    audit_event_record(
        action="token_alert.raised",
        target=alert,
        after={"reason": reason, "trid": token.trid, "device": token.device_name, "card_suffix": card.last_four},
    )
    alert_id = alert.pk
    # robust: a broker that cannot take the task must not fail MDES's call; the sweep sends the alert then.
    transaction.on_commit(lambda: _enqueue(alert_id), robust=True)
    return alert


def _enqueue(alert_id: int) -> None:
    from issuer_services.tasks import send_token_alert  # the tasks module imports this one

    send_token_alert.delay(alert_id)


# --- sending -------------------------------------------------------------------------------------------------------
def link_digest(link_token: str) -> str:
    return hashlib.sha256(link_token.encode()).hexdigest()


def link_url(link_token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("token_alerts:link", args=[link_token])


def _language(card: Card) -> str:
    locale = card.cardholder.preferred_locale if card.cardholder else ""
    return locale[:2] if locale[:2] in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE[:2]


def _message(alert: TokenAlert, *, kind: str, to: str, url: str) -> Message:
    """In the active language (the caller activates the cardholder's)."""
    place = TokenPlace(alert.token)
    values = {
        "issuer": settings.PORTAL_ISSUER_NAME,
        "where": place.where,
        "last_four": alert.token.card.last_four,
        "url": url,
        "days": settings.ISSUER_SERVICES_ALERT_LINK_DAYS,
    }
    subject = gettext("Was this you? Your card •••• %(last_four)s was added to %(where)s") % values
    body = (
        gettext(
            "%(issuer)s: your card •••• %(last_four)s was just added to %(where)s. If it was you, there is nothing "
            "to do. If it was not you, suspend it at once (the link works once, for %(days)s days): %(url)s"
        )
        % values
    )
    return Message(channel=kind, to=to, subject=subject, body=body)


def _alert_locked(alert_id: int) -> TokenAlert | None:
    """The alert if it is still to be sent and no one else is sending it."""
    return (
        TokenAlert.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("token__card__cardholder__user", "token__token_requestor__logo")
        .filter(pk=alert_id, state=State.DUE)
        .first()
    )


def token_alert_send(alert_id: int) -> str:
    """Send the alert's message with a new link; on failure, try again later (the sweep) or give up and say so."""
    with transaction.atomic():
        alert = _alert_locked(alert_id)
        if alert is None:
            return "nothing to send"
        card = alert.token.card
        with translation.override(_language(card)):
            channels = code_channels(card)
            if not channels:
                return _given_up(alert, "No phone number or e-mail address on file that messages can reach")
            channel = channels[0]  # a text first: it is read soonest
            link_token = secrets.token_urlsafe(32)
            try:
                # Under the row lock: the sweep skips an alert being sent, so no message goes twice.
                message_send(_message(alert, kind=channel.kind, to=channel.address, url=link_url(link_token)))
            except MessageNotSentError as error:
                return _not_sent(alert, str(error))
        now = timezone.now()
        alert.transition_to(State.SENT)
        alert.link_digest = link_digest(link_token)
        alert.sent_at = now
        alert.expires_at = now + timedelta(days=settings.ISSUER_SERVICES_ALERT_LINK_DAYS)
        alert.channel, alert.sent_to_hint = channel.kind, channel.hint[:64]
        alert.attempts += 1
        alert.save()
        audit_event_record(
            action="token_alert.sent",
            target=alert,
            after={"channel": channel.kind, "sent_to": alert.sent_to_hint, "expires_at": alert.expires_at.isoformat()},
        )
    return "sent"


def _not_sent(alert: TokenAlert, error: str) -> str:
    alert.attempts += 1
    alert.last_error = error[:200]
    if alert.attempts >= MAX_ATTEMPTS:
        return _given_up(alert, f"{alert.attempts} attempts failed, the last: {error}")
    alert.next_attempt_at = timezone.now() + timedelta(minutes=2**alert.attempts)
    alert.save()
    audit_event_record(
        action="token_alert.not_sent",
        target=alert,
        outcome=AuditEvent.Outcome.FAILURE,
        after={"attempts": alert.attempts, "next_attempt_at": alert.next_attempt_at.isoformat()},
        detail=f"Will try again: {error}"[:500],
    )
    return "not sent, will try again"


def _given_up(alert: TokenAlert, why: str) -> str:
    alert.transition_to(State.NOT_SENT)
    alert.last_error = why[:200]
    alert.save()
    audit_event_record(
        action="token_alert.given_up",
        target=alert,
        outcome=AuditEvent.Outcome.FAILURE,
        after={"attempts": alert.attempts},
        detail=f"The cardholder was not told of a token the portal did not push: {why}"[:500],
    )
    logger.warning("A was-this-you alert could not be sent", extra={"alert": alert.pk})
    return "given up"


def token_alerts_send_due(*, limit: int = 100) -> int:
    """The sweep: alerts the task did not send, whose next attempt is due; how many it tried."""
    due = list(
        TokenAlert.objects.filter(state=State.DUE, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for alert_id in due:
        token_alert_send(alert_id)
    return len(due)


# --- the link ------------------------------------------------------------------------------------------------------
class LinkState(enum.StrEnum):
    USABLE = "usable"
    SPENT = "spent"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class LinkLookup:
    state: LinkState
    alert: TokenAlert | None = None


def _lookup(alert: TokenAlert | None) -> LinkLookup:
    if alert is None:
        return LinkLookup(LinkState.UNKNOWN)
    if alert.used_at is not None:
        return LinkLookup(LinkState.SPENT, alert)
    if alert.expires_at is None or alert.expires_at <= timezone.now():
        return LinkLookup(LinkState.EXPIRED, alert)
    return LinkLookup(LinkState.USABLE, alert)


def _by_digest(digest: str, *, lock: bool = False) -> TokenAlert | None:
    alerts = TokenAlert.objects.select_related("token__card__cardholder__user", "token__token_requestor__logo")
    if lock:
        alerts = alerts.select_for_update(of=("self",))
    return alerts.filter(link_digest=digest).first()


def token_alert_by_link(link_token: str) -> LinkLookup:
    return _lookup(_by_digest(link_digest(link_token)))


def link_language(lookup: LinkLookup) -> str | None:
    """The cardholder's language for the link's pages (their message was in it), when the link is known."""
    return _language(lookup.alert.token.card) if lookup.alert is not None else None


def link_refusal_record(lookup: LinkLookup, request: HttpRequest, *, what: str) -> None:
    """A link that could not be used, on record (staff see scanners and late clicks alike)."""
    audit_event_record(
        action="token_alert.link_refused",
        target=lookup.alert,
        outcome=AuditEvent.Outcome.FAILURE,
        after={"link": lookup.state, "asked": what},
        detail=f"The link is {lookup.state}",
        request=request,
    )


@dataclass(frozen=True)
class LinkUse:
    """What a click did: `done` when the link was used (for a suspension: the network took it, or may have, and
    `message` then says it is being checked); otherwise `lookup` says why not, or `message` what refused it."""

    lookup: LinkLookup
    done: bool = False
    message: str = ""


def token_alert_suspend(link_token: str, request: HttpRequest) -> LinkUse:
    """The one click: suspend the token through the Customer Service API as the cardholder by link, then spend the
    link. A refusal leaves the link usable (the network may be back in a minute); it is on record either way."""
    with transaction.atomic():
        lookup = _lookup(_by_digest(link_digest(link_token), lock=True))  # one click at a time per link
        if lookup.state != LinkState.USABLE or lookup.alert is None:
            link_refusal_record(lookup, request, what="suspend")
            return LinkUse(lookup)
        alert = lookup.alert
        token = alert.token
        user = token.card.cardholder.user  # type: ignore[union-attr]  # an alert is raised only for a cardholder
        try:
            token_suspend(token, actor=TokenActor.cardholder_by_link(user, request))
        except TokenChangeRefused as refusal:
            return LinkUse(lookup, message=str(refusal))
        except TokenChangeUnknown as unknown:
            message = str(unknown)
        else:
            message = ""
        _spend(alert, State.SUSPENDED, request)
    return LinkUse(LinkLookup(LinkState.SPENT, alert), done=True, message=message)


def token_alert_acknowledge(link_token: str, request: HttpRequest) -> LinkUse:
    """ "It was me": the link is spent, the token stays as it is."""
    with transaction.atomic():
        lookup = _lookup(_by_digest(link_digest(link_token), lock=True))
        if lookup.state != LinkState.USABLE or lookup.alert is None:
            link_refusal_record(lookup, request, what="acknowledge")
            return LinkUse(lookup)
        _spend(lookup.alert, State.ACKNOWLEDGED, request)
    return LinkUse(LinkLookup(LinkState.SPENT, lookup.alert), done=True)


def _spend(alert: TokenAlert, state: str, request: HttpRequest) -> None:
    alert.transition_to(state)
    alert.used_at = timezone.now()
    alert.save()
    audit_event_record(
        action="token_alert.suspended" if state == State.SUSPENDED else "token_alert.acknowledged",
        target=alert,
        after={"state": state},
        detail="The cardholder did not recognise the token" if state == State.SUSPENDED else "It was the cardholder",
        request=request,
    )
