"""The sandbox's in-memory state, shared by its MDES API, simulated token requestors, inbox and control API.

One lock guards everything: the sandbox serves a handful of requests at a time, and one lock makes each
operation (a nonce check, a receipt redemption) trivially atomic across the server's threads.
"""

import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from sandbox.config import SandboxConfig
from sandbox.crypto import certificate_fingerprints
from sandbox.fixtures import FIXTURE_TOKEN_REQUESTORS, SimulatedTokenRequestor
from sandbox.issuer_services import CardData, Device, IssuerServicesClient
from sandbox.merchant_records import MerchantRecords
from sandbox.tokens import SandboxToken, new_token_unique_reference

_REQUEST_LOG_SIZE = 500
_INBOX_SIZE = 500


@dataclass
class ReceiptRecord:
    receipt: str
    trid: str
    push_account_id: str
    request_id: str
    account_suffix: str
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None
    result: str | None = None
    # Kept (in memory only) so that the token a wallet creates from the receipt can be searched by account number.
    account_number: str = field(default="", repr=False)
    token_unique_reference: str | None = None
    # What the issuer pushed with the account, until a requestor redeems the receipt: MDES hands the account holder
    # data over only for an APPROVED tokenization and erases it once retrieved (mdes-beyond-the-push.md section 0).
    account_holder_data: dict[str, Any] | None = field(default=None, repr=False)
    expiry: tuple[str, str] | None = field(default=None, repr=False)  # (MM, YY) as pushed, for calls to the issuer

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for private in ("account_number", "account_holder_data", "expiry"):
            del data[private]
        data["account_holder_data_held"] = sorted(self.account_holder_data or {})
        for key in ("issued_at", "expires_at", "redeemed_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class InboxMessage:
    id: str
    channel: str
    to: str
    subject: str
    body: str
    received_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "received_at": self.received_at.isoformat()}


@dataclass
class FailureRule:
    status: int
    remaining: int
    shape: str  # "mdes" or "gateway"


@dataclass(frozen=True)
class TokenRequestorSession:
    """A redirect the simulated token requestor accepted and is showing to the cardholder."""

    id: str
    trid: str
    receipts: tuple[str, ...]
    callback_url: str | None
    platform: str = "push"  # push (web), android or ios: where the token goes if the person approves
    complete_website_activation: bool = True  # false: leave a token that needs proof to the issuer


@dataclass
class WalletEnrolment:
    """A card typed into a simulated wallet, on its way through the issuer's services (sandbox/wallet_pages.py)."""

    id: str
    trid: str
    card: CardData = field(repr=False)
    device: Device
    token_unique_reference: str
    correlation_id: str
    payment_app_instance_id: str
    code_mode: str  # "issuer": the issuer makes and validates the code; "mdes": MDES makes and checks it
    status: str = "new"  # new, choose, code, waiting, added, declined, failed
    decision: str = ""
    methods: list[dict[str, str]] = field(default_factory=list)
    chosen: dict[str, str] | None = None
    mdes_code: str | None = field(default=None, repr=False)
    code_expires_at: datetime | None = None
    attempts: int = 0
    message: str = ""
    # A pushed card (sandbox/push_tokenization.py): where the requestor sends the person back, by how the
    # enrolment ended (added, declined, failed); empty for a card typed in.
    return_urls: dict[str, str] = field(default_factory=dict, repr=False)


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        keys = config.keys
        encryption_certificate = x509.load_pem_x509_certificate(keys.encryption_certificate.read_bytes())
        self.accepted_fingerprints = certificate_fingerprints(encryption_certificate)
        self.encryption_key = _load_rsa_private_key(keys.encryption_private_key.read_bytes())
        self.jws_key = _load_rsa_private_key(keys.jws_private_key.read_bytes())
        self.jws_public_key = self.jws_key.public_key()
        self.client_keys: dict[str, rsa.RSAPublicKey] = {}
        self.token_requestors: dict[str, SimulatedTokenRequestor] = {}
        self.receipts: dict[str, ReceiptRecord] = {}
        self.nonces: dict[tuple[str, str], float] = {}
        self.failures: deque[FailureRule] = deque()
        self.inbox: deque[InboxMessage] = deque(maxlen=_INBOX_SIZE)
        self.request_log: deque[dict[str, Any]] = deque(maxlen=_REQUEST_LOG_SIZE)
        self.sessions: dict[str, TokenRequestorSession] = {}
        self.tokens: dict[str, SandboxToken] = {}
        self.enrolments: dict[str, WalletEnrolment] = {}
        self.merchants = MerchantRecords()  # Click to Pay profiles, card-on-file enrolments (sandbox/merchant_records)
        self.issuer_services_url = config.issuer_services_url
        self.clock_offset_seconds = 0.0
        self.reset()

    # --- lifecycle and clock ---------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.client_keys = {
                self.config.keys.consumer_key: public_key_from_pem(
                    self.config.keys.client_signing_certificate.read_bytes()
                )
            }
            self.token_requestors = {tr.trid: tr for tr in FIXTURE_TOKEN_REQUESTORS}
            self.receipts.clear()
            self.nonces.clear()
            self.failures.clear()
            self.inbox.clear()
            self.request_log.clear()
            self.sessions.clear()
            self.tokens.clear()
            self.enrolments.clear()
            self.merchants.clear()
            self.issuer_services_url = self.config.issuer_services_url
            self.clock_offset_seconds = 0.0

    def epoch(self) -> float:
        """The sandbox's clock in seconds; tests shift it to make timestamps stale and receipts expire."""
        return time.time() + self.clock_offset_seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), UTC)

    def set_clock_offset(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset_seconds = seconds

    # --- gateway -----------------------------------------------------------------------------------------------
    def register_client(self, consumer_key: str, public_key: rsa.RSAPublicKey) -> None:
        with self.lock:
            self.client_keys[consumer_key] = public_key

    def client_keys_snapshot(self) -> dict[str, rsa.RSAPublicKey]:
        with self.lock:
            return dict(self.client_keys)

    def remember_nonce(self, consumer_key: str, nonce: str, timestamp: int) -> bool:
        """False when this client already used the nonce inside the window (a replay)."""
        window = self.config.timestamp_window_seconds
        with self.lock:
            horizon = self.epoch() - 2 * window
            for key in [key for key, seen in self.nonces.items() if seen < horizon]:
                del self.nonces[key]
            if (consumer_key, nonce) in self.nonces:
                return False
            self.nonces[(consumer_key, nonce)] = float(timestamp)
            return True

    def add_failure(self, rule: FailureRule) -> None:
        with self.lock:
            self.failures.append(rule)

    def take_failure(self) -> FailureRule | None:
        with self.lock:
            if not self.failures:
                return None
            rule = self.failures[0]
            rule.remaining -= 1
            if rule.remaining <= 0:
                self.failures.popleft()
            return rule

    def log_request(self, **entry: Any) -> None:
        with self.lock:
            self.request_log.append({"at": self.now().isoformat(), **entry})

    # --- token requestors and receipts ---------------------------------------------------------------------------
    def token_requestor(self, trid: str) -> SimulatedTokenRequestor | None:
        with self.lock:
            return self.token_requestors.get(trid)

    def all_token_requestors(self) -> list[SimulatedTokenRequestor]:
        with self.lock:
            return list(self.token_requestors.values())

    def register_token_requestor(self, token_requestor: SimulatedTokenRequestor) -> None:
        with self.lock:
            self.token_requestors[token_requestor.trid] = token_requestor

    def mint_receipt(
        self,
        *,
        prefix: str,
        trid: str,
        push_account_id: str,
        request_id: str,
        account_number: str,
        minutes: int,
        account_holder_data: dict[str, Any] | None = None,
        expiry: tuple[str, str] | None = None,
    ) -> ReceiptRecord:
        issued = self.now()
        record = ReceiptRecord(
            receipt=f"{prefix}-{str(uuid.uuid4()).upper()}",
            trid=trid,
            push_account_id=push_account_id,
            request_id=request_id,
            account_suffix=account_number[-4:],
            issued_at=issued,
            expires_at=issued + timedelta(minutes=minutes),
            account_number=account_number,
            account_holder_data=account_holder_data or None,
            expiry=expiry,
        )
        with self.lock:
            self.receipts[record.receipt] = record
        return record

    def receipt_problems(self, receipts: Iterable[str], trid: str) -> dict[str, str]:
        """Why each unusable receipt cannot be redeemed by requestor `trid` (empty: all usable)."""
        now = self.now()
        problems: dict[str, str] = {}
        with self.lock:
            for receipt in receipts:
                record = self.receipts.get(receipt)
                if record is None or record.trid != trid:
                    problems[receipt] = "unknown"
                elif record.redeemed_at is not None:
                    problems[receipt] = "already used"
                elif record.expires_at <= now:
                    problems[receipt] = "expired"
        return problems

    def redeem(self, results: Mapping[str, str], trid: str) -> dict[str, str]:
        """Redeem every receipt once, all or none; returns the problems that stopped it (empty: done)."""
        problems, _released = self.redeem_releasing(results, trid)
        return problems

    def redeem_releasing(
        self, results: Mapping[str, str], trid: str
    ) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
        """`redeem`, and the account holder data MDES hands the requestor: that of each receipt whose tokenization
        is APPROVED. It is erased from every redeemed receipt, released or not."""
        released: dict[str, dict[str, Any]] = {}
        with self.lock:
            problems = self.receipt_problems(results, trid)
            if problems:
                return problems, released
            now = self.now()
            for receipt, result in results.items():
                record = self.receipts[receipt]
                record.redeemed_at = now
                record.result = result
                data, record.account_holder_data = record.account_holder_data, None
                if data is not None and result == "APPROVED":
                    released[receipt] = data
            return {}, released

    def tokenize(
        self,
        receipt: str,
        result: str,
        *,
        device_name: str | None,
        device_type: str | None,
        token_unique_reference: str | None = None,
    ) -> SandboxToken:
        """The token the requestor created from a redeemed receipt (an approval, or one awaiting authentication);
        `token_unique_reference` when MDES already named it to the issuer (authorizeService)."""
        with self.lock:
            record = self.receipts[receipt]
            token_requestor = self.token_requestors[record.trid]
            now = self.now()
            awaiting = result == "REQUIRE_ADDITIONAL_AUTHENTICATION"
            token = SandboxToken(
                token_unique_reference=token_unique_reference or new_token_unique_reference(),
                trid=record.trid,
                token_requestor_name=token_requestor.name,
                consumer_facing_name=token_requestor.consumer_facing_name,
                wallet_id=token_requestor.wallet_id,
                account_number=record.account_number,
                token_suffix=f"{secrets.randbelow(10_000):04d}",
                expiration_date=f"{now.month:02d}{(now.year + 3) % 100:02d}",
                token_type="C" if token_requestor.requestor_type == "WALLET" else "F",
                device_name=device_name if token_requestor.requestor_type == "WALLET" else None,
                device_type=device_type if token_requestor.requestor_type == "WALLET" else None,
                created_at=now,
                status="U" if awaiting else "A",
                provisioning_status="A" if awaiting else "S",
                final_decision="R" if awaiting else "A",
                activated_at=None if awaiting else now,
            )
            if result == "DELETED":
                token.change("D", now, "W")
            self.tokens[token.token_unique_reference] = token
            record.token_unique_reference = token.token_unique_reference
            return token

    def token_already_there(self, receipt: str, *, device_name: str | None, device_type: str | None) -> SandboxToken:
        """DUPLICATE_REQUEST: the card already has a live token at this requestor; one is made if the sandbox has
        none on record (the card was added before the sandbox started), so the network's records agree."""
        with self.lock:
            record = self.receipts[receipt]
            for token in self.tokens.values():
                if token.account_number == record.account_number and token.trid == record.trid and token.status != "D":
                    return token
        return self.tokenize(receipt, "APPROVED", device_name=device_name, device_type=device_type)

    def add_token(self, token: SandboxToken) -> None:
        with self.lock:
            self.tokens[token.token_unique_reference] = token

    def token(self, token_unique_reference: str) -> SandboxToken | None:
        with self.lock:
            return self.tokens.get(token_unique_reference)

    def tokens_of_account(self, account_number: str) -> list[SandboxToken]:
        with self.lock:
            return [token for token in self.tokens.values() if token.account_number == account_number]

    def all_tokens(self) -> list[SandboxToken]:
        with self.lock:
            return list(self.tokens.values())

    def receipt(self, receipt: str) -> ReceiptRecord | None:
        with self.lock:
            return self.receipts.get(receipt)

    def receipts_snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [record.to_json() for record in self.receipts.values()]

    # --- simulated token requestor sessions ------------------------------------------------------------------------
    def open_session(
        self,
        trid: str,
        receipts: tuple[str, ...],
        callback_url: str | None,
        platform: str = "push",
        *,
        complete_website_activation: bool = True,
    ) -> TokenRequestorSession:
        session = TokenRequestorSession(
            id=secrets.token_urlsafe(24),
            trid=trid,
            receipts=receipts,
            callback_url=callback_url,
            platform=platform,
            complete_website_activation=complete_website_activation,
        )
        with self.lock:
            self.sessions[session.id] = session
        return session

    def close_session(self, session_id: str, trid: str) -> TokenRequestorSession | None:
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or session.trid != trid:
                return None
            del self.sessions[session_id]
            return session

    # --- the issuer's services and the simulated wallet's manual adds ----------------------------------------------
    def set_issuer_services_url(self, url: str | None) -> None:
        with self.lock:
            self.issuer_services_url = url

    def issuer_client(self) -> IssuerServicesClient | None:
        """A client of the issuer's services on the sandbox clock (None: no address known)."""
        with self.lock:
            url = self.issuer_services_url
        if not url:
            return None
        return IssuerServicesClient.for_keys(self.config.keys, url, clock=self.epoch)

    def add_enrolment(self, enrolment: WalletEnrolment) -> None:
        with self.lock:
            self.enrolments[enrolment.id] = enrolment

    def enrolment(self, enrolment_id: str) -> WalletEnrolment | None:
        with self.lock:
            return self.enrolments.get(enrolment_id)

    # --- inbox ---------------------------------------------------------------------------------------------------
    def add_message(self, *, channel: str, to: str, subject: str, body: str) -> InboxMessage:
        message = InboxMessage(
            id=str(uuid.uuid4()), channel=channel, to=to, subject=subject, body=body, received_at=self.now()
        )
        with self.lock:
            self.inbox.appendleft(message)
        return message

    def messages(self) -> list[InboxMessage]:
        with self.lock:
            return list(self.inbox)


def _load_rsa_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("An RSA private key was expected")
    return key


def public_key_from_pem(pem: bytes) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM certificate or of a PEM public key."""
    key: object = (
        x509.load_pem_x509_certificate(pem).public_key()
        if b"CERTIFICATE" in pem
        else serialization.load_pem_public_key(pem)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("An RSA key was expected")
    return key


def current_state() -> SandboxState:
    """The state of the sandbox app serving the current request."""
    sandbox_state: SandboxState = current_app.extensions["sandbox"]
    return sandbox_state
