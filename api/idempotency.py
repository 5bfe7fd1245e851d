"""Idempotency-Key on POST: a retry with the same key gets the first answer, and the work is done once.

- The key is claimed by INSERTing an IdempotencyRecord (credential, key); the unique constraint is the lock, so
  of two concurrent requests exactly one proceeds and the other gets 409 `idempotency_key_in_use`.
- A completed record with the same request fingerprint is replayed (stored status and body, header
  `Idempotent-Replayed: true`); a different request under the same key gets 422 `idempotency_key_reused`.
- Answers that say "nothing happened, try again" (401, 403, 429, 503) and unhandled errors release the key.
- A browser session's keys are its own (`idempotency_scope`), so another session of the user replays nothing.
- Stored bodies are sealed with AES-GCM (a key derived from SECRET_KEY with HKDF, bound to credential and key):
  they may hold receipts, a landing link or a token. A body is dropped once `body_expires_at` passes (a push's
  receipts expire after minutes); replaying it then gets 410 `idempotency_response_expired`. Records older than
  the replay window (24 hours) are ignored and purged.
"""

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import idempotency_scope
from api.models import IdempotencyRecord
from api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from api.problems import Problem

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
REPLAY_WINDOW = timedelta(hours=24)
# Answers meaning "try the same request again" (not signed in, step-up missing, limits, outages, our own bugs):
# the key is released, not kept.
RELEASED_STATUSES = frozenset({401, 403, 429, 500, 503})
_KEY_RE = re.compile(KEY_PATTERN)
_NONCE_BYTES = 12
_BODY_EXPIRES_ATTR = "_idempotency_body_expires_at"

P = ParamSpec("P")
V = TypeVar("V", bound=APIView)


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def _sealing_key() -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal api idempotency response v1")
    return hkdf.derive(settings.SECRET_KEY.encode())


def _associated_data(credential: str, key: str) -> bytes:
    return f"{credential}\n{key}".encode()


def _seal(body: Any, *, credential: str, key: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps({"body": body}, separators=(",", ":")).encode()
    return nonce + AESGCM(_sealing_key()).encrypt(nonce, plain, _associated_data(credential, key))


def _open(sealed: bytes, *, credential: str, key: str) -> dict[str, Any] | None:
    """{"body": the stored body}, or None if it cannot be opened (SECRET_KEY rotated since it was sealed)."""
    sealed = bytes(sealed)
    try:
        plain = AESGCM(_sealing_key()).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _associated_data(credential, key)
        )
    except InvalidTag:
        return None
    opened: dict[str, Any] = json.loads(plain)
    return opened


def request_fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode() + b"\n")
    digest.update(request._request.body)  # the raw body: read before the view parses it (Django keeps a copy)
    return digest.hexdigest()


def idempotency_records_purge(*, now: datetime | None = None) -> tuple[int, int]:
    """Drop stored bodies past their expiry and records past the replay window: (bodies dropped, records deleted)."""
    now = now or timezone.now()
    dropped = IdempotencyRecord.objects.filter(response_body__isnull=False, body_expires_at__lte=now).update(
        response_body=None
    )
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - REPLAY_WINDOW).delete()
    return dropped, deleted


def idempotency_claim(*, credential: str, key: str, fingerprint: str) -> IdempotencyRecord | Replay:
    """Claim `key` for this request (the record to complete later) or return the replay of the first answer.

    Raises Problem for a key in use (409), reused for another request (422) or whose answer expired (410).
    """
    now = timezone.now()
    IdempotencyRecord.objects.filter(credential=credential, key=key, created_at__lt=now - REPLAY_WINDOW).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(credential=credential, key=key, request_fingerprint=fingerprint)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(credential=credential, key=key).first()
    if existing is None or existing.state == IdempotencyRecord.State.IN_PROGRESS:
        # None: the holder released the key a moment ago; a retry will claim it.
        raise Problem(
            status_code=409,
            code="idempotency_key_in_use",
            title=gettext("A request with this Idempotency-Key is in progress"),
            detail=gettext("Wait for the first request to finish, then send this one again to get its answer."),
            headers={"Retry-After": "1"},
        )
    if existing.request_fingerprint != fingerprint:
        raise Problem(
            status_code=422,
            code="idempotency_key_reused",
            title=gettext("This Idempotency-Key was used for another request"),
            detail=gettext("Use a new Idempotency-Key for a new request."),
        )
    opened = None
    if existing.response_body is not None and (existing.body_expires_at is None or existing.body_expires_at > now):
        opened = _open(existing.response_body, credential=credential, key=key)
    if existing.status_code is None or opened is None:
        raise Problem(
            status_code=410,
            code="idempotency_response_expired",
            title=gettext("The first answer to this request is no longer available"),
            detail=gettext(
                "It held receipts or links that have expired since. Start again with a new Idempotency-Key."
            ),
        )
    return Replay(status_code=existing.status_code, body=opened["body"])


def idempotency_complete(*, record: IdempotencyRecord, response: Response) -> None:
    """Keep `response` as the answer to replay, or release the key if the answer invites a plain retry."""
    if response.status_code in RELEASED_STATUSES:
        idempotency_release(record=record)
        return
    now = timezone.now()
    body_expires_at = getattr(response, _BODY_EXPIRES_ATTR, None) or record.created_at + REPLAY_WINDOW
    record.state = IdempotencyRecord.State.COMPLETE
    record.status_code = response.status_code
    record.response_body = _seal(response.data, credential=record.credential, key=record.key)
    record.body_expires_at = body_expires_at
    record.completed_at = now
    record.save(update_fields=["state", "status_code", "response_body", "body_expires_at", "completed_at"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def keep_body_until(response: Response, when: datetime) -> Response:
    """Replays of this answer end at `when` (the receipts in it expire then); without it, with the window."""
    setattr(response, _BODY_EXPIRES_ATTR, when)
    return response


def idempotency_key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY_RE.match(key):
        raise Problem(
            status_code=400,
            code="idempotency_key_invalid",
            title=gettext("Invalid Idempotency-Key"),
            detail=gettext("An Idempotency-Key has 1 to 64 letters, digits or the characters _ . : -"),
            errors=[{"field": HEADER, "code": "invalid", "message": gettext("Not a valid Idempotency-Key.")}],
        )
    return key


def idempotent(
    *, required: bool = False
) -> Callable[[Callable[Concatenate[V, Request, P], Response]], Callable[Concatenate[V, Request, P], Response]]:
    """Honour Idempotency-Key on a view's `post` (and demand it when `required`)."""

    def decorator(
        method: Callable[Concatenate[V, Request, P], Response],
    ) -> Callable[Concatenate[V, Request, P], Response]:
        @functools.wraps(method)
        def wrapper(view: V, request: Request, /, *args: P.args, **kwargs: P.kwargs) -> Response:
            key = idempotency_key_of(request)
            credential = idempotency_scope(request)
            if key is None or credential is None:
                if required:
                    raise Problem(
                        status_code=400,
                        code="idempotency_key_required",
                        title=gettext("Idempotency-Key required"),
                        detail=gettext("Send an Idempotency-Key header, new for each new request."),
                        errors=[{"field": HEADER, "code": "required", "message": gettext("This header is required.")}],
                    )
                return method(view, request, *args, **kwargs)
            claim = idempotency_claim(credential=credential, key=key, fingerprint=request_fingerprint(request))
            if isinstance(claim, Replay):
                return Response(
                    claim.body,
                    status=claim.status_code,
                    headers={REPLAYED_HEADER: "true"},
                    content_type=PROBLEM_CONTENT_TYPE if claim.status_code >= 400 else None,
                )
            try:
                try:
                    response = method(view, request, *args, **kwargs)
                except Exception as exc:  # the view's own handler turns it into the answer to keep
                    response = view.handle_exception(exc)
            except BaseException:
                idempotency_release(record=claim)
                raise
            idempotency_complete(record=claim, response=response)
            return response

        return wrapper

    return decorator
