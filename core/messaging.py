"""Messages to people (one-time codes, later landing links) through a pluggable backend, like Django's e-mail.

PORTAL_MESSAGE_BACKEND picks it: `EmailBackend` sends e-mail through Django (SMS needs a provider's backend),
`SandboxInboxBackend` posts every message to the local MDES sandbox's inbox page (the demo), `ConsoleBackend`
writes to standard output (development only). Message bodies may hold secrets: they are never logged.
"""

import logging
import sys
from dataclasses import dataclass
from functools import cache
from typing import Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class MessageNotSentError(Exception):
    """The backend could not deliver the message; the caller tells the person to try again or another way."""


@dataclass(frozen=True)
class Message:
    channel: str  # "email" or "sms"
    to: str
    subject: str
    body: str


class MessageBackend(Protocol):
    channels: frozenset[str]

    def send(self, message: Message) -> None: ...


class EmailBackend:
    channels = frozenset({"email"})

    def send(self, message: Message) -> None:
        try:
            send_mail(message.subject, message.body, None, [message.to], fail_silently=False)
        except OSError as exc:
            raise MessageNotSentError("The e-mail could not be sent") from exc


class ConsoleBackend:
    channels = frozenset({"email", "sms"})

    def send(self, message: Message) -> None:
        sys.stdout.write(f"[{message.channel} to {message.to}] {message.subject}\n{message.body}\n")


class SandboxInboxBackend:
    """The demo's SMS and e-mail: the sandbox shows them on its /inbox page. Loopback only, short timeouts."""

    channels = frozenset({"email", "sms"})

    def __init__(self) -> None:
        self.url = settings.PORTAL_SANDBOX_INBOX_URL
        host = urlsplit(self.url).hostname or ""
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ImproperlyConfigured("PORTAL_SANDBOX_INBOX_URL must point at the sandbox on this machine")
        self.session = requests.Session()
        self.session.trust_env = False

    def send(self, message: Message) -> None:
        payload = {"channel": message.channel, "to": message.to, "subject": message.subject, "body": message.body}
        try:
            response = self.session.post(self.url, json=payload, timeout=(2, 5), allow_redirects=False)
        except requests.RequestException as exc:
            raise MessageNotSentError("The sandbox inbox could not be reached") from exc
        if response.status_code != 201:
            raise MessageNotSentError(f"The sandbox inbox answered {response.status_code}")


@cache
def _backend(path: str) -> MessageBackend:
    backend: MessageBackend = import_string(path)()
    return backend


def message_backend() -> MessageBackend:
    return _backend(settings.PORTAL_MESSAGE_BACKEND)


def message_send(message: Message) -> None:
    backend = message_backend()
    if message.channel not in backend.channels:
        raise MessageNotSentError(f"No way to send {message.channel} messages is configured")
    backend.send(message)
    logger.info("Message sent", extra={"channel": message.channel, "subject": message.subject})
