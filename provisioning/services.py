"""Write use cases of push provisioning: starting a push, sending the cardholder on, taking them back."""

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders import vault
from cardholders.models import Card, Cardholder
from core.metrics import PUSHES
from core.states import transition_update
from provisioning.activation import receipt_activation_start
from provisioning.click_to_pay import (
    CONSENT_TEXT_VERSION,
    ClickToPayAnswer,
    ClickToPayReview,
    account_holder_data,
    click_to_pay_review,
    is_click_to_pay,
)
from provisioning.devices import usable_push_method_types
from provisioning.mdes.callback import ReportedResult
from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import MdesError, MdesOutcomeUnknown
from provisioning.mdes.push_methods import PushUriRefusedError, push_uri_source
from provisioning.mdes.redirect import token_requestor_redirect_url
from provisioning.mdes.types import (
    PushFundingAccount,
    PushResult,
    SignatureData,
    receipt_hint,
)
from provisioning.models import (
    ClickToPayConsent,
    NetworkCheck,
    NetworkConfiguration,
    PushReceipt,
    PushRequest,
    TokenRequestor,
)
from provisioning.network_check import receipt_network_check
from provisioning.push_errors import PushError, PushErrorCode
from provisioning.receipts import ReceiptUse, push_receipt_use, receipt_digest
from provisioning.selectors import network_configuration_active, token_requestors_eligible


@dataclass(frozen=True)
class IssuedReceipt:
    """A receipt as MDES issued it, held in memory only: for an app that hands it to the token requestor itself."""

    card: Card
    receipt: str = field(repr=False)
    expires_at: datetime
    digitization_data: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PushStarted:
    push: PushRequest
    redirect_url: str
    issued: tuple[IssuedReceipt, ...] = ()


def push_idempotency_key(*, channel: str, scope: object, key: str) -> str:
    """The push's idempotency key (at most 64 characters): the client's `key` bound to the channel and to who sent
    it (`scope`: the cardholder, the landing link, the API credential), so no other flow or person can match it. A
    form without a key gets a random one: that push cannot be recognised when sent twice, but it is not lost."""
    bound = f"{channel}\n{scope}\n{key[:255] or secrets.token_urlsafe(24)}"
    return f"{channel}:" + hashlib.sha256(bound.encode()).hexdigest()[:48]


def _failure_code(error: MdesError) -> PushErrorCode:
    if isinstance(error, MdesOutcomeUnknown):
        return PushErrorCode.OUTCOME_UNKNOWN
    if error.retryable or not error.reason_codes:
        return PushErrorCode.NETWORK_UNAVAILABLE
    return PushErrorCode.NETWORK_REFUSED


@transaction.atomic
def _fail(push: PushRequest, code: PushErrorCode, reasons: str, description: str, **params: Any) -> PushError:
    """Record the push as failed with what the network said (`reasons`, else the code's name), and the error to
    tell the person."""
    push.transition_to(PushRequest.State.FAILED)
    PUSHES.labels(requestor=push.token_requestor.trid, step="failed", outcome=code.name).inc()
    push.error_code = (reasons or code.name)[:100]
    push.error_description = description[:256]
    push.save()
    audit_event_record(
        action="push.failed",
        target=push,
        outcome=AuditEvent.Outcome.FAILURE,
        before={"state": PushRequest.State.STARTED},
        after={"state": PushRequest.State.FAILED, "error_code": push.error_code},
        detail=description,
    )
    return PushError(code, push=push, **params)


def _redirect_uri(result: PushResult, device: str) -> str | None:
    """The URI MDES returned for this device (own app first, then web), if it is a safe place to send someone.

    Checked again here: the push answer's URIs need not be the ones the refresh checked and stored."""
    for method_type in usable_push_method_types(device):
        method = result.push_method(method_type)
        if method is None:
            continue
        try:
            push_uri_source(method_type, method.uri)
        except PushUriRefusedError:
            continue
        return method.uri
    return None


def _check_choice(
    *, cardholder: Cardholder | None, cards: Sequence[Card], requestor: TokenRequestor, device: str
) -> None:
    if not cards:
        raise PushError(PushErrorCode.NO_CARD)
    for card in cards:
        if cardholder is not None and card.cardholder_id != cardholder.pk:
            raise PushError(PushErrorCode.NOT_YOUR_CARD)
        if card.state != Card.State.ACTIVE:
            state = str(card.get_state_display()).lower()
            raise PushError(PushErrorCode.CARD_STATE, card=f"•••• {card.last_four}", state=state)
    if requestor not in token_requestors_eligible(cards=cards, device=device):
        raise PushError(
            PushErrorCode.NOT_ELIGIBLE, several_cards=len(cards) > 1, requestor=requestor.consumer_facing_name
        )


def _click_to_pay_refused(
    cardholder: Cardholder | None,
    requestor: TokenRequestor,
    code: PushErrorCode,
    actor_label: str | None,
    **params: Any,
) -> PushError:
    audit_event_record(
        action="push.click_to_pay_refused",
        actor=cardholder.user if cardholder is not None else None,
        actor_label=actor_label,
        target=requestor,
        outcome=AuditEvent.Outcome.FAILURE,
        detail=code.value,
    )
    return PushError(code, requestor=requestor.consumer_facing_name, **params)


def _click_to_pay_checked(
    *,
    cardholder: Cardholder | None,
    requestor: TokenRequestor,
    consent: ClickToPayAnswer | None,
    actor_label: str | None,
) -> ClickToPayReview:
    """Click to Pay gets the whole profile it needs or nothing, and only with the cardholder's consent to the
    current wording and (when the page says what it showed) to exactly the data that would go."""
    review = click_to_pay_review(cardholder=cardholder, requestor=requestor)
    if review.missing:
        raise _click_to_pay_refused(
            cardholder, requestor, PushErrorCode.DETAILS_MISSING, actor_label, missing=review.missing_words
        )
    if consent is None or not consent.given or consent.version != CONSENT_TEXT_VERSION:
        raise _click_to_pay_refused(cardholder, requestor, PushErrorCode.CONSENT_REQUIRED, actor_label)
    if consent.digest and not secrets.compare_digest(consent.digest, review.digest):
        raise _click_to_pay_refused(cardholder, requestor, PushErrorCode.DETAILS_CHANGED, actor_label)
    return review


def push_start(
    *,
    cardholder: Cardholder | None,
    cards: Sequence[Card],
    token_requestor: TokenRequestor,
    device: str,
    locale: str | None,
    idempotency_key: str,
    channel: str = PushRequest.Channel.WEB,
    request_digitization_data: bool = False,
    actor_label: str | None = None,
    click_to_pay_consent: ClickToPayAnswer | None = None,
    client: TokenConnectClient | None = None,
    redirecting: bool = False,
) -> PushStarted:
    """Push `cards` to `token_requestor` with pushMultipleAccounts and work out where to send the cardholder.

    The push is recorded before MDES is called (so that nothing started is lost) and ends in PUSHED or FAILED.
    A second call with the same idempotency key raises PushError with code ALREADY_STARTED and the first push.
    `request_digitization_data`: ask MDES for issuerInitiatedDigitizationData, if the requestor supports it
    (an app hands it to the requestor's SDK instead of opening a URL). `actor_label`: who started it, when no
    cardholder did (a landing link). `click_to_pay_consent`: the cardholder's answer to the review, required for
    Click to Pay (recorded with the push as a ClickToPayConsent). `redirecting`: the caller sends the browser to
    the token requestor at once (the web flows), so the push is recorded as redirected with its receipts, in the
    same transaction.
    """
    _check_choice(cardholder=cardholder, cards=cards, requestor=token_requestor, device=device)
    review = None
    if is_click_to_pay(token_requestor):
        review = _click_to_pay_checked(
            cardholder=cardholder, requestor=token_requestor, consent=click_to_pay_consent, actor_label=actor_label
        )
    config = network_configuration_active()
    if config is None:
        raise PushError(PushErrorCode.NOT_CONFIGURED)
    try:
        push = _push_record(
            cardholder=cardholder,
            token_requestor=token_requestor,
            cards=cards,
            channel=channel,
            device=device,
            locale=locale or (cardholder.preferred_locale if cardholder else "") or config.default_locale,
            config=config,
            idempotency_key=idempotency_key,
            actor_label=actor_label,
            review=review,
        )
    except IntegrityError:  # the idempotency key is unique: the same form or request was sent before
        existing = PushRequest.objects.filter(idempotency_key=idempotency_key).first()
        raise PushError(PushErrorCode.ALREADY_STARTED, push=existing) from None
    want_data = request_digitization_data and token_requestor.supports_issuer_initiated_digitization_data
    return _push_to_mdes(
        push=push,
        cards=cards,
        config=config,
        client=client,
        request_digitization_data=want_data,
        redirecting=redirecting,
    )


@transaction.atomic
def _push_record(
    *,
    cardholder: Cardholder | None,
    token_requestor: TokenRequestor,
    cards: Sequence[Card],
    channel: str,
    device: str,
    locale: str,
    config: NetworkConfiguration,
    idempotency_key: str,
    actor_label: str | None,
    review: ClickToPayReview | None,
) -> PushRequest:
    """The push as started, recorded (and audited) before MDES is called, so that nothing started is lost."""
    push = PushRequest.objects.create(
        cardholder=cardholder,
        token_requestor=token_requestor,
        channel=channel,
        device_environment=device,
        locale=locale,
        network_environment=config.environment,
        request_id=str(uuid.uuid4()),
        idempotency_key=idempotency_key,
        streamlined_activation=token_requestor.streamlined_activation,
    )
    audit_event_record(
        action="push.started",
        actor=cardholder.user if cardholder is not None else None,
        actor_label=actor_label,
        target=push,
        after={"state": push.state, "token_requestor": token_requestor.trid, "cards": [c.last_four for c in cards]},
    )
    if review is not None:
        _consent_record(push=push, review=review, actor_label=actor_label)
    PUSHES.labels(requestor=token_requestor.trid, step="started", outcome=channel).inc()
    return push


def _consent_record(*, push: PushRequest, review: ClickToPayReview, actor_label: str | None) -> None:
    """What the cardholder agreed to, kept with the push: a digest and the kinds of data, never the data."""
    user = push.cardholder.user if push.cardholder is not None else None
    consent = ClickToPayConsent.objects.create(
        push=push,
        data_digest=review.digest,
        data_kinds=review.kinds,
        text_version=review.consent_version,
        terms_url=review.terms_url,
        privacy_url=review.privacy_url,
        country=review.country,
        explicit_opt_in=review.explicit_opt_in,
        given_by=user,
    )
    audit_event_record(
        action="push.click_to_pay_consent",
        actor=user,
        actor_label=actor_label,
        target=push,
        after={
            "data_digest": consent.data_digest,
            "data_kinds": consent.data_kinds,
            "text_version": consent.text_version,
            "terms_url": consent.terms_url,
            "privacy_url": consent.privacy_url,
            "country": consent.country,
            "explicit_opt_in": consent.explicit_opt_in,
        },
    )


def _push_to_mdes(
    *,
    push: PushRequest,
    cards: Sequence[Card],
    config: NetworkConfiguration,
    client: TokenConnectClient | None,
    request_digitization_data: bool,
    redirecting: bool,
) -> PushStarted:
    requestor = push.token_requestor
    holder_data = account_holder_data(push.cardholder, requestor.supported_account_holder_data)
    accounts = {f"CA-{uuid.uuid4().hex}": card for card in cards}
    callback_url = config.callback_base_url.rstrip("/") + reverse("provisioning:push_return", args=[push.public_id])
    signature_data = SignatureData(
        callback_url=callback_url,
        complete_issuer_app_activation=bool(settings.MDES_COMPLETE_ISSUER_APP_ACTIVATION),
        complete_website_activation=not push.streamlined_activation,
        account_holder_data_supplied=holder_data is not None,
        locale=push.locale,
    )
    try:
        client = client or TokenConnectClient.from_configuration(config)
        result = client.push_multiple_accounts(
            token_requestor_id=requestor.trid,
            funding_accounts=[
                PushFundingAccount(
                    push_account_id=account_id,
                    card_account_data=vault.card_account_data(card),
                    account_holder_data=holder_data,
                )
                for account_id, card in accounts.items()
            ],
            signature_data=signature_data,
            request_issuer_initiated_digitization_data=request_digitization_data,
            receipts_validity_minutes=config.receipt_validity_minutes,
            request_id=push.request_id,
        )
    except MdesError as error:
        reasons = ", ".join(error.reason_codes) or type(error).__name__
        raise _fail(push, _failure_code(error), reasons, str(error)) from error
    return _record_result(
        push=push,
        accounts=accounts,
        result=result,
        validity=config.receipt_validity_minutes,
        redirecting=redirecting,
    )


def _record_result(
    *, push: PushRequest, accounts: Mapping[str, Card], result: PushResult, validity: int, redirecting: bool
) -> PushStarted:
    now = timezone.now()
    requestor = push.token_requestor
    uri = _redirect_uri(result, push.device_environment) if result.succeeded else None
    issued = []
    # One transaction: the receipts and the push's new state are durable together before the browser is redirected.
    with transaction.atomic():
        for account_id, card in accounts.items():
            pushed = result.account(account_id)
            if pushed.succeeded and pushed.receipt:
                expires_at = now + timedelta(minutes=validity)
                PushReceipt.objects.create(
                    push=push,
                    card=card,
                    push_account_id=account_id,
                    state=PushReceipt.State.ISSUED,
                    receipt_digest=receipt_digest(pushed.receipt),
                    receipt_hint=receipt_hint(pushed.receipt),
                    expires_at=expires_at,
                )
                issued.append(
                    IssuedReceipt(
                        card=card,
                        receipt=pushed.receipt,
                        expires_at=expires_at,
                        digitization_data=pushed.issuer_initiated_digitization_data,
                    )
                )
            else:
                error = pushed.errors[0] if pushed.errors else None
                PushReceipt.objects.create(
                    push=push,
                    card=card,
                    push_account_id=account_id,
                    state=PushReceipt.State.REFUSED,
                    error_code=(error.reason_code if error else PushErrorCode.NO_RECEIPT.name)[:100],
                    error_description=(error.description if error else "")[:256],
                )
        if uri is not None:
            _push_moved(
                push,
                PushRequest.State.PUSHED,
                "pushed_at",
                now,
                "push.receipts_issued",
                receipts=len(result.succeeded),
                refused=len(result.failed),
            )
            if redirecting:  # the web flows send the browser on at once (an app does this step itself)
                _push_moved(push, PushRequest.State.REDIRECTED, "redirected_at", now, "push.redirected")
                PUSHES.labels(requestor=requestor.trid, step="redirected", outcome="web").inc()
    support = result.token_requestor_signature_support
    if support is not None and support != requestor.supports_signature:
        # Outside the receipts' transaction, and only when it changed: every push names the same requestor row,
        # so writing it each time made concurrent pushes queue on its lock.
        TokenRequestor.objects.filter(pk=requestor.pk).update(supports_signature=support)
        requestor.supports_signature = support
    if not result.succeeded:
        reasons = ", ".join(e.reason_code for account in result.failed for e in account.errors)
        raise _fail(
            push, PushErrorCode.NO_RECEIPT, reasons, "MDES issued no receipt", requestor=requestor.consumer_facing_name
        )
    if uri is None:
        raise _fail(
            push,
            PushErrorCode.NO_USABLE_PUSH_METHOD,
            "",
            "MDES returned no push method usable on this device",
            requestor=requestor.consumer_facing_name,
        )
    redirect_url = token_requestor_redirect_url(
        uri,
        result,
        receipts_separator=requestor.receipts_separator,
        signature_param_name=requestor.signature_param_name,
        signed_with_plain_parameters=requestor.signed_redirect_with_plain_parameters,
    )
    PUSHES.labels(requestor=requestor.trid, step="pushed", outcome="all" if not result.failed else "partly").inc()
    return PushStarted(push=push, redirect_url=redirect_url, issued=tuple(issued))


def _push_moved(push: PushRequest, target: str, moment: str, now: datetime, action: str, **details: Any) -> None:
    """Move the push to `target`, stamp `moment` (a field) with `now`, and audit it as `action` with `details`."""
    before = push.transition_to(target)
    setattr(push, moment, now)
    push.save(update_fields=["state", moment])
    audit_event_record(action=action, target=push, before={"state": before}, after={"state": target, **details})


def push_return(*, push: PushRequest, results: Mapping[str, ReportedResult]) -> dict[str, ReceiptUse]:
    """The token requestor sent the cardholder back with a result per receipt. Each is checked with the network at
    once (the sweep tries again when MDES cannot answer); replaying the callback changes nothing."""
    used = {
        receipt: push_receipt_use(push=push, receipt=receipt, reported=reported)
        for receipt, reported in results.items()
    }
    outcomes = {receipt: use for receipt, (use, _) in used.items()}
    # The browser only reported these outcomes: the network's token records decide them.
    for use, row in used.values():
        if row is not None and row.network_check == NetworkCheck.PENDING:
            receipt_network_check(row, quick=True)
        if row is not None and use == ReceiptUse.USED:
            receipt_activation_start(row)
    if ReceiptUse.USED in outcomes.values():
        now = timezone.now()
        returned = transition_update(
            PushRequest.objects.filter(pk=push.pk), PushRequest.State.RETURNED, returned_at=now
        )
        if returned:
            audit_event_record(
                action="push.returned",
                target=push,
                after={
                    "state": PushRequest.State.RETURNED,
                    "results": sorted({reported.result.value for reported in results.values()})[:10],
                },
            )
    for outcome in outcomes.values():  # per receipt: recorded now, a replay, expired, not this push's
        PUSHES.labels(requestor=push.token_requestor.trid, step="returned", outcome=outcome.value).inc()
    push.refresh_from_db()
    return outcomes
