"""What the two MDES clients (Token Connect, Customer Service) share: keys, the session and one signed exchange.

Transport discipline: one requests Session, connect and read timeouts on every call, TLS verification on, redirects
never followed, retries only for connection failures (the request never left), the base URL's host on the
allow-list of its environment (provisioning.mdes.hosts) and every call pinned to it, and an answer body of at most
MAX_RESPONSE_BYTES that must arrive within the read timeout once its headers have. Every call is OAuth 1.0a-signed
with Mastercard's own signer over exactly the bytes sent. The two APIs read their successful answers and their
application errors differently; what a refusal means (unavailable, outcome unknown, gateway, application) is the
same for both and decided here (`raise_refusal`).
"""

import enum
import functools
import json
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
from client_encryption.encryption_exception import CertificateError, HashAlgorithmError  # type: ignore[import-untyped]
from client_encryption.field_level_encryption_config import FieldLevelEncryptionConfig  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from oauth1.authenticationutils import load_signing_key  # type: ignore[import-untyped]
from oauth1.oauth import OAuth  # type: ignore[import-untyped]
from opentelemetry import trace
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, DecodeError, HTTPError, ReadTimeoutError
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.util.retry import Retry

from core.metrics import MDES_ERRORS, MDES_REQUEST_SECONDS
from provisioning.mdes.errors import (
    ErrorDetail,
    MdesApplicationError,
    MdesConfigurationError,
    MdesError,
    MdesGatewayError,
    MdesOutcomeUnknown,
    MdesProtocolError,
    MdesUnavailable,
)
from provisioning.mdes.hosts import base_url_refusal
from provisioning.models import NetworkConfiguration

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)  # seconds: connect, read
DEFAULT_CONNECT_RETRIES = 2
# Far above any MDES answer (logo assets, the largest, are tens of kilobytes): a bigger body is not MDES's.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
_READ_CHUNK_BYTES = 64 * 1024


def configured_path(path: str) -> str:
    """A key or certificate path from the configuration; a relative one is relative to the project directory."""
    return str(Path(settings.BASE_DIR, path)) if not os.path.isabs(path) else path


def file_version(path: str, unreadable: str) -> int:
    """The file's modification time, which keys the caches of what is parsed from it (a replaced file is read
    again); MdesConfigurationError(`unreadable`) when it cannot be read."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError as exc:
        raise MdesConfigurationError(unreadable) from exc


def signing_key(path: str, password: str) -> rsa.RSAPrivateKey:
    return _load_signing_key(path, file_version(path, "The OAuth signing key (.p12) cannot be read"), password)


@functools.lru_cache(maxsize=4)
def _load_signing_key(path: str, modified: int, password: str) -> rsa.RSAPrivateKey:
    """Opening a .p12 costs tens of milliseconds; a replaced file (new mtime) is read again."""
    try:
        key = load_signing_key(path, password)
    except (OSError, ValueError) as exc:
        raise MdesConfigurationError("The OAuth signing key (.p12) cannot be read with the given password") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MdesConfigurationError("The OAuth signing key must be an RSA key")
    return key


def signing_key_password(env_name: str) -> str:
    password = os.environ.get(env_name)
    if password is None:
        raise MdesConfigurationError(f"The environment variable {env_name} (signing key password) is not set")
    return password


def field_level_encryption(settings_: dict[str, Any]) -> FieldLevelEncryptionConfig:
    """Mastercard's field-level encryption set up from `settings_` (the dict FieldLevelEncryptionConfig takes)."""
    try:
        return FieldLevelEncryptionConfig(settings_)
    except (CertificateError, HashAlgorithmError, OSError, ValueError) as exc:
        raise MdesConfigurationError("The MDES encryption certificate cannot be loaded") from exc


def configured_timeout() -> tuple[float, float]:
    return (float(settings.MDES_CONNECT_TIMEOUT_SECONDS), float(settings.MDES_READ_TIMEOUT_SECONDS))


def new_session(connect_retries: int) -> requests.Session:
    session = requests.Session()
    # No proxies or .netrc from the environment: .netrc could even replace the OAuth Authorization header.
    session.trust_env = False
    # Only connection failures are retried: the request never reached MDES. Reads, statuses and redirects never.
    retry = Retry(
        total=None,
        connect=connect_retries,
        read=False,
        redirect=False,
        status=0,
        other=0,
        backoff_factor=0.2,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class _Lost(enum.Enum):
    """How far an exchange got before it failed (the value is what the log says)."""

    NOT_SENT = "connection"  # the connection or its TLS handshake failed: MDES never saw the request
    NO_ANSWER_IN_TIME = "timeout"
    BROKEN = "broken connection"  # closed or reset once the request was (perhaps partly) sent


def _certificate_refused(reason: object) -> bool:
    cause = reason.args[0] if isinstance(reason, Urllib3SSLError) and reason.args else None
    return isinstance(cause, ssl.SSLCertVerificationError)


def _how_lost(exc: requests.RequestException) -> _Lost:
    if isinstance(exc, requests.ConnectTimeout):
        return _Lost.NOT_SENT
    if isinstance(exc, requests.Timeout):
        return _Lost.NO_ANSWER_IN_TIME
    # requests wraps urllib3's MaxRetryError, whose reason is the last attempt's failure. Only a failed connection
    # (urllib3's own test for "safe to retry") or a refused certificate prove the request never left; any other
    # failure may have come after MDES received it.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, ConnectTimeoutError) or _certificate_refused(reason):
        return _Lost.NOT_SENT
    return _Lost.BROKEN


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    log_extra: dict[str, Any]

    def json(self) -> object:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.content)
        except ValueError:
            return None


def envelope_errors(payload: object) -> tuple[ErrorDetail, ...]:
    """`{"Errors": {"Error": [...]}}` (or a single Error object): the gateway's envelope, which the Customer Service
    API also uses for its own refusals."""
    if not isinstance(payload, dict) or not isinstance(payload.get("Errors"), dict):
        return ()
    items = payload["Errors"].get("Error")
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return ()
    return tuple(
        ErrorDetail(
            source=str(item.get("Source", "")),
            reason_code=str(item.get("ReasonCode", "")),
            description=str(item.get("Description", "")),
            recoverable=item.get("Recoverable") if isinstance(item.get("Recoverable"), bool) else None,
            error_code=str(item["ErrorCode"]) if item.get("ErrorCode") is not None else None,
        )
        for item in items
        if isinstance(item, dict)
    )


def error_summary(errors: tuple[ErrorDetail, ...]) -> str:
    return "; ".join(f"{error.reason_code} ({error.description})" for error in errors) or "no details"


def json_object(answer: Answer, payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise MdesProtocolError("MDES answered with a body that is not a JSON object", status=answer.status)
    return payload


def raise_refusal(
    answer: Answer,
    *,
    errors: tuple[ErrorDetail, ...],
    gateway: tuple[ErrorDetail, ...],
    idempotent: bool,
    unknown_outcome: str,
    response_id: str | None = None,
) -> NoReturn:
    """The error an answer that is not a success stands for. `errors`: all the errors it carries; `gateway`: those
    of the gateway, which win; `unknown_outcome`: what a 5xx leaves unknown for a call that is not idempotent (a
    5xx does not say how far MDES got)."""
    status = answer.status
    logger.warning("MDES refused: %s", ", ".join(e.reason_code for e in errors) or status, extra=answer.log_extra)
    if status >= 500 and not idempotent:
        raise MdesOutcomeUnknown(
            f"MDES failed (HTTP {status}): {error_summary(errors)}; {unknown_outcome}", status=status, errors=errors
        )
    if status >= 500 or status == 429:
        raise MdesUnavailable(
            f"MDES is unavailable (HTTP {status}): {error_summary(errors)}", status=status, errors=errors
        )
    if 300 <= status < 400:
        raise MdesProtocolError(
            f"MDES answered with a redirect (HTTP {status}), which is never followed", status=status
        )
    if gateway:
        raise MdesGatewayError(
            f"The Mastercard gateway refused the call: {error_summary(gateway)}", status=status, errors=gateway
        )
    if errors:
        raise MdesApplicationError(
            f"MDES refused the request: {error_summary(errors)}",
            status=status,
            errors=errors,
            response_id=response_id,
        )
    raise MdesProtocolError(f"MDES answered HTTP {status} without a readable error", status=status)


@dataclass(frozen=True)
class Credentials:
    """What both clients take from a NetworkConfiguration: the consumer key, the signing key (its password from
    the environment variable the configuration names) and the encryption certificate."""

    environment: str
    consumer_key: str
    signing_key: rsa.RSAPrivateKey
    encryption_certificate_path: str
    encryption_key_fingerprint: str | None

    @classmethod
    def of(cls, config: NetworkConfiguration) -> "Credentials":
        password = signing_key_password(config.signing_key_password_env)
        return cls(
            environment=config.environment,
            consumer_key=config.consumer_key,
            signing_key=signing_key(configured_path(config.signing_key_path), password),
            encryption_certificate_path=configured_path(config.encryption_certificate_path),
            encryption_key_fingerprint=config.encryption_key_fingerprint or None,
        )

    def as_arguments(self) -> dict[str, Any]:
        """The keyword arguments both clients' constructors take, with the configured timeouts and retries."""
        return {
            "environment": self.environment,
            "consumer_key": self.consumer_key,
            "signing_key": self.signing_key,
            "encryption_certificate_path": self.encryption_certificate_path,
            "encryption_key_fingerprint": self.encryption_key_fingerprint,
            "timeout": configured_timeout(),
            "connect_retries": int(settings.MDES_CONNECT_RETRIES),
        }


class SignedTransport:
    """Signed exchanges with one MDES base URL, which is checked against the host allow-list when built."""

    def __init__(
        self,
        *,
        base_url: str,
        environment: str,
        consumer_key: str,
        signing_key: rsa.RSAPrivateKey,
        timeout: tuple[float, float],
        connect_retries: int,
        session: requests.Session | None,
        user_agent: str,
        url_label: str = "MDES base URL",
    ) -> None:
        try:
            parts = urlsplit(base_url)
        except ValueError as exc:
            raise MdesConfigurationError(f"The {url_label} cannot be parsed") from exc
        # Credentials in the URL would make requests replace the OAuth Authorization header with Basic auth.
        if parts.scheme not in ("https", "http") or not parts.hostname or "@" in parts.netloc:
            raise MdesConfigurationError(f"The {url_label} must be https://host/path, without credentials")
        if parts.query or parts.fragment:
            raise MdesConfigurationError(f"The {url_label} must be scheme://host/path, without query or fragment")
        refusal = base_url_refusal(base_url, environment)
        if refusal is not None:
            raise MdesConfigurationError(refusal.message)
        self.base_url = base_url.rstrip("/")
        self._scheme_and_host = (parts.scheme, parts.netloc.lower())
        self._consumer_key = consumer_key
        self._signing_key = signing_key
        self.timeout = timeout
        self._session = session or new_session(connect_retries)
        self._user_agent = user_agent

    def exchange(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        request_id: str | None,
        *,
        idempotent: bool,
        lost_answer: str = "",
    ) -> Answer:
        """One exchange. `idempotent`: whether repeating the call is harmless, which decides whether a failure
        after the request may have reached MDES is MdesUnavailable (retry) or MdesOutcomeUnknown (do not);
        `lost_answer` is then the message of the latter, after "MDES did not answer in time" or the like."""
        url = f"{self.base_url}{path}"
        target = urlsplit(url)
        if (target.scheme, target.netloc.lower()) != self._scheme_and_host:
            raise MdesConfigurationError("Refusing to send an MDES request to another host than the configured one")
        text = json.dumps(body, separators=(",", ":")) if body is not None else None
        headers = {
            "Accept": "application/json",
            "User-Agent": self._user_agent,
            # Signed over exactly the bytes below (the signer hashes the UTF-8 of this text).
            "Authorization": OAuth.get_authorization_header(url, method, text, self._consumer_key, self._signing_key),
        }
        if text is not None:
            headers["Content-Type"] = "application/json; charset=UTF-8"
        started = time.monotonic()
        log_extra: dict[str, Any] = {"mdes_method": method, "mdes_path": path, "mdes_request_id": request_id}
        failure = _Failure(idempotent, lost_answer, log_extra, started)
        try:
            response = self._session.request(
                method,
                url,
                data=text.encode("utf-8") if text is not None else None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                verify=True,
                # The body is read by _read_body, which caps its size and its duration.
                stream=True,
            )
        except requests.RequestException as exc:
            raise failure.transport(_how_lost(exc)) from exc
        with response:
            content = self._read_body(response, failure)
        log_extra.update(mdes_status=response.status_code, latency_ms=round((time.monotonic() - started) * 1000))
        logger.info("MDES %s %s -> %s", method, path, response.status_code, extra=log_extra)
        return Answer(status=response.status_code, content=content, log_extra=log_extra)

    def _read_body(self, response: requests.Response, failure: "_Failure") -> bytes:
        """At most MAX_RESPONSE_BYTES (decoded), all within the read timeout once the headers are in.

        The read timeout alone bounds each socket read, not the body: a server dripping a byte at a time would hold
        the worker for ever. read1 returns after a single socket read, so the deadline is checked between reads.
        """
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            failure.log("oversized answer")
            raise MdesProtocolError(f"MDES's answer announces more than {MAX_RESPONSE_BYTES} bytes")
        deadline = time.monotonic() + self.timeout[1]
        content = bytearray()
        try:
            while chunk := response.raw.read1(_READ_CHUNK_BYTES, decode_content=True):
                content += chunk
                if len(content) > MAX_RESPONSE_BYTES:
                    failure.log("oversized answer")
                    raise MdesProtocolError(f"MDES's answer is larger than {MAX_RESPONSE_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise failure.transport(_Lost.NO_ANSWER_IN_TIME)
        except ReadTimeoutError as exc:
            raise failure.transport(_Lost.NO_ANSWER_IN_TIME) from exc
        except DecodeError as exc:
            failure.log("undecodable answer")
            raise MdesProtocolError("MDES's answer cannot be decoded") from exc
        except HTTPError as exc:
            # The connection broke in the middle of the answer: a call that is not idempotent has already acted.
            if not failure.idempotent:
                raise failure.transport(_Lost.BROKEN) from exc
            failure.log("broken answer")
            raise MdesProtocolError("MDES's answer was cut off") from exc
        return bytes(content)


@dataclass
class _Failure:
    idempotent: bool
    lost_answer: str
    log_extra: dict[str, Any]
    started: float

    def transport(self, lost: _Lost) -> MdesError:
        self.log(lost.value)
        if lost is _Lost.NOT_SENT:
            return MdesUnavailable("MDES could not be reached")
        if not self.idempotent:
            what = "did not answer in time" if lost is _Lost.NO_ANSWER_IN_TIME else "broke the connection"
            return MdesOutcomeUnknown(f"MDES {what} {self.lost_answer}")
        if lost is _Lost.NO_ANSWER_IN_TIME:
            return MdesUnavailable("MDES did not answer in time")
        return MdesUnavailable("The connection to MDES broke before its answer")

    def log(self, kind: str) -> None:
        extra = self.log_extra
        extra.update(latency_ms=round((time.monotonic() - self.started) * 1000), failure=kind)
        logger.warning("MDES %s %s failed: %s", extra["mdes_method"], extra["mdes_path"], kind, extra=extra)


tracer = trace.get_tracer("provisioning.mdes")


@contextmanager
def observed_call(operation: str) -> Iterator[Callable[[int], None]]:
    """One MDES call as a client span and in the latency histogram, by operation and status, and counted by reason
    code when it fails. The caller reports the HTTP status it got through the callable this yields; a call that
    failed before any status arrived is labelled with its error's class."""
    started = time.monotonic()
    status = ""

    def answered(code: int) -> None:
        nonlocal status
        status = str(code)

    with tracer.start_as_current_span(
        f"MDES {operation}", kind=trace.SpanKind.CLIENT, attributes={"mdes.operation": operation}
    ) as span:
        try:
            yield answered
        except MdesError as error:
            status = status or type(error).__name__
            for code in error.reason_codes or (type(error).__name__,):
                MDES_ERRORS.labels(operation=operation, code=code[:64]).inc()
            raise
        finally:
            span.set_attribute("mdes.status", status or "error")
            MDES_REQUEST_SECONDS.labels(operation=operation, status=status or "error").observe(
                time.monotonic() - started
            )
