"""Activation codes (deliverActivationCode, validateActivationCode), in both of MDES's modes.

- MDES makes the code: deliverActivationCode carries it and its expiry; the portal only delivers it (a resend
  carries the same code again) and keeps its digest, in case MDES asks the portal to validate after all.
- The portal makes it: deliverActivationCode carries none. The portal makes ISSUER_SERVICES_CODE_DIGITS digits,
  valid ISSUER_SERVICES_CODE_MINUTES, and validateActivationCode checks it: SUCCESS, INCORRECT_CODE,
  INCORRECT_CODE_RETRIES_EXCEEDED (the ISSUER_SERVICES_CODE_ATTEMPTS-th wrong one, and after) or EXPIRED_CODE.

Only a keyed digest of a code is stored. A resend before the code expires sends the same code (W2: "It will not
cause the Activation Code to be regenerated nor extend the validity period"): a portal code is derived from a random
seed and the portal's secret key, so it can be made again for the resend and never needs storing.
"""

import enum
import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.messaging import Message, message_send
from core.one_time_codes import CodeChannel
from issuer_services.models import ActivationCode, TokenizationRequest
from issuer_services.wire import ErrorCode, IssuerServiceError, timestamp


class ValidationResult(enum.StrEnum):
    SUCCESS = "SUCCESS"
    INCORRECT_CODE = "INCORRECT_CODE"
    INCORRECT_CODE_RETRIES_EXCEEDED = "INCORRECT_CODE_RETRIES_EXCEEDED"
    EXPIRED_CODE = "EXPIRED_CODE"


def _digest(request: TokenizationRequest, code: str) -> str:
    scope = f"issuer-services/activation-code/{request.token_unique_reference}:{code}"
    return hmac.new(settings.SECRET_KEY.encode(), scope.encode(), hashlib.sha256).hexdigest()


def _portal_code(seed: str) -> str:
    """The code a seed stands for: uniform digits from an HMAC under the portal's secret key."""
    digits = settings.ISSUER_SERVICES_CODE_DIGITS
    value = hmac.new(settings.SECRET_KEY.encode(), f"issuer-services/code-seed/{seed}".encode(), hashlib.sha256)
    return f"{int.from_bytes(value.digest(), 'big') % 10**digits:0{digits}d}"


def _expiry(text: str) -> datetime:
    moment = timestamp(text)
    if moment is None:
        raise IssuerServiceError(ErrorCode.INVALID_FIELD_FORMAT, "Invalid field format - expirationDateTime")
    return moment


def _language(request: TokenizationRequest) -> str:
    cardholder = request.card.cardholder
    locale = cardholder.preferred_locale if cardholder else ""
    languages = dict(settings.LANGUAGES)
    return locale[:2] if locale[:2] in languages else settings.LANGUAGE_CODE[:2]


def _message(request: TokenizationRequest, channel: CodeChannel, code: str, expires_at: datetime) -> Message:
    """The message in the active language (the caller activates the cardholder's)."""
    values = {
        "issuer": settings.PORTAL_ISSUER_NAME,
        "wallet": request.consumer_facing_name or gettext("your wallet"),
        "last_four": request.card.last_four,
        "code": code,
        "minutes": max(1, math.ceil((expires_at - timezone.now()).total_seconds() / 60)),
    }
    subject = gettext("Your code to add your card to %(wallet)s") % values
    body = (
        gettext(
            "%(issuer)s: your code to add your card ending %(last_four)s to %(wallet)s is %(code)s. It expires in "
            "%(minutes)s minutes. If you did not ask for this, do not share the code and contact us."
        )
        % values
    )
    return Message(channel=channel.kind, to=channel.address, subject=subject, body=body)


def activation_code_deliver(
    request: TokenizationRequest, channel: CodeChannel, *, mdes_code: str = "", mdes_expiry: str = ""
) -> ActivationCode:
    """Send the request's code by `channel`: MDES's (`mdes_code`), or the portal's current one, made anew only
    when none is still usable. Raises MessageNotSentError when the backend fails (the code stays on record)."""
    now = timezone.now()
    with transaction.atomic():
        TokenizationRequest.objects.select_for_update().get(pk=request.pk)  # one code at a time per request
        usable = request.codes.filter(used_at__isnull=True, expires_at__gt=now)
        if mdes_code:
            digest = _digest(request, mdes_code)
            record = usable.filter(origin=ActivationCode.Origin.MDES, code_hash=digest).first()
            if record is None:
                record = ActivationCode(
                    request=request,
                    origin=ActivationCode.Origin.MDES,
                    code_hash=digest,
                    expires_at=_expiry(mdes_expiry),
                )
            code = mdes_code
        else:
            record = (
                usable.filter(origin=ActivationCode.Origin.PORTAL, attempts__lt=settings.ISSUER_SERVICES_CODE_ATTEMPTS)
                .order_by("-created_at")
                .first()
            )
            if record is None:
                seed = secrets.token_hex(32)
                record = ActivationCode(
                    request=request,
                    origin=ActivationCode.Origin.PORTAL,
                    seed=seed,
                    code_hash=_digest(request, _portal_code(seed)),
                    expires_at=now + timedelta(minutes=settings.ISSUER_SERVICES_CODE_MINUTES),
                )
            code = _portal_code(record.seed)
        if record.pk is not None:
            record.sends += 1
        record.channel = channel.kind
        record.sent_to_hint = channel.hint[:64]
        record.last_sent_at = now
        record.save()
    with translation.override(_language(request)):
        message_send(_message(request, channel, code, record.expires_at))
    return record


def activation_code_validate(request: TokenizationRequest, code: str) -> ValidationResult:
    """Check `code` against the request's latest code, counting the attempt under a row lock."""
    attempts = settings.ISSUER_SERVICES_CODE_ATTEMPTS
    with transaction.atomic():
        latest = request.codes.select_for_update().order_by("-created_at", "-id").first()
        if latest is None or latest.used_at is not None or latest.expires_at <= timezone.now():
            return ValidationResult.EXPIRED_CODE
        if latest.attempts >= attempts:
            return ValidationResult.INCORRECT_CODE_RETRIES_EXCEEDED
        latest.attempts += 1
        if not hmac.compare_digest(latest.code_hash, _digest(request, code.strip())):
            latest.save(update_fields=["attempts"])
            if latest.attempts >= attempts:
                return ValidationResult.INCORRECT_CODE_RETRIES_EXCEEDED
            return ValidationResult.INCORRECT_CODE
        latest.used_at = timezone.now()
        latest.save(update_fields=["attempts", "used_at"])
    return ValidationResult.SUCCESS
