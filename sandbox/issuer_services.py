"""MDES calling the issuer: the client of the portal's issuer services (W2 v2.0.21), used by the simulated wallet
and by tests.

Every call is signed as the portal's `issuer_services/authentication.py` documents (a detached JWS over the body
in `X-JWS-Signature`, RS256, with kid, iat, jti and the path), and the funding account is encrypted to the
issuer's certificate with the sandbox's own field-level encryption (`sandbox.crypto.encrypt_envelope`), not
Mastercard's library, so the portal's use of that library is what gets checked.
"""

import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.crypto import detached_jws, encrypt_envelope
from sandbox.keys import DemoKeys

SIGNATURE_HEADER = "X-JWS-Signature"
PUSH_SOURCE = "ACCOUNT_ADDED_VIA_APPLICATION"
MANUAL_SOURCE = "ACCOUNT_ADDED_MANUALLY"


def timestamp(moment: datetime) -> str:
    """YYYY-MM-DDThh:mm:ss.sssZ, as MDES writes times."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def new_correlation_id() -> str:
    return "SBX" + secrets.token_hex(5).upper() + "0"  # 14 characters, like MDES's


@dataclass(frozen=True)
class CardData:
    account_number: str = field(repr=False)
    expiry_month: str
    expiry_year: str
    security_code: str | None = field(default=None, repr=False)

    @property
    def suffix(self) -> str:
        return self.account_number[-4:]


@dataclass(frozen=True)
class Device:
    name: str
    form_factor: str = "PHONE"
    os_name: str = "ANDROID"
    iso_type: str = "21"

    def to_json(self) -> dict[str, str]:
        return {"deviceName": self.name, "formFactor": self.form_factor, "osName": self.os_name}


@dataclass(frozen=True)
class SignedCall:
    """A call ready to go: tests alter it to see the portal refuse."""

    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200


class IssuerServicesClient:
    def __init__(
        self,
        *,
        base_url: str,
        signing_key: rsa.RSAPrivateKey,
        kid: str,
        encryption_certificate: x509.Certificate,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.signing_key = signing_key
        self.kid = kid
        self.encryption_certificate = encryption_certificate
        self.clock = clock
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False

    @classmethod
    def for_keys(cls, keys: DemoKeys, base_url: str, **options: Any) -> "IssuerServicesClient":
        key = serialization.load_pem_private_key(keys.issuer_services_signing_key.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("The issuer services signing key is not an RSA key")
        certificate = x509.load_pem_x509_certificate(keys.issuer_encryption_certificate.read_bytes())
        return cls(
            base_url=base_url,
            signing_key=key,
            kid=keys.issuer_services_kid,
            encryption_certificate=certificate,
            **options,
        )

    # --- the wire ----------------------------------------------------------------------------------------------
    def sign(self, operation: str, payload: Mapping[str, Any] | bytes, **header: Any) -> SignedCall:
        url = f"{self.base_url}/{operation}"
        body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        protected = {"kid": self.kid, "iat": int(self.clock()), "jti": str(uuid.uuid4()), "path": urlsplit(url).path}
        protected.update(header)
        signature = detached_jws(body, private_key=self.signing_key, header=protected)
        return SignedCall(url=url, body=body, headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature})

    def send(self, call: SignedCall) -> Answer:
        response = self.session.post(
            call.url, data=call.body, headers=call.headers, timeout=self.timeout, allow_redirects=False
        )
        try:
            body = response.json()
        except ValueError:
            body = {"errorCode": "NOT_JSON", "errorDescription": response.text[:200]}
        return Answer(status=response.status_code, body=body if isinstance(body, dict) else {})

    def call(self, operation: str, payload: Mapping[str, Any]) -> Answer:
        return self.send(self.sign(operation, payload))

    # --- the payloads ---------------------------------------------------------------------------------------------
    def funding_account_info(
        self,
        card: CardData,
        *,
        token_unique_reference: str | None,
        source: str = MANUAL_SOURCE,
        valid_for: timedelta = timedelta(minutes=30),
        token: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        account: dict[str, str] = {
            "accountNumber": card.account_number,
            "expiryMonth": card.expiry_month,
            "expiryYear": card.expiry_year,
        }
        if card.security_code:
            account["securityCode"] = card.security_code
        data: dict[str, Any] = {
            "source": source,
            "dataValidUntilTimestamp": timestamp(datetime.fromtimestamp(self.clock(), UTC) + valid_for),
            "cardAccountData": account,
        }
        if token is not None:
            data["tokenData"] = dict(token)
        info: dict[str, Any] = {"encryptedPayload": encrypt_envelope(data, certificate=self.encryption_certificate)}
        if token_unique_reference:
            info["tokenUniqueReference"] = token_unique_reference
        return info

    def authorize_service_payload(
        self,
        card: CardData,
        *,
        token_unique_reference: str,
        correlation_id: str,
        token_requestor_id: str,
        wallet_id: str | None = None,
        device: Device | None = None,
        payment_app_instance_id: str | None = None,
        source: str = MANUAL_SOURCE,
        decisioning: Mapping[str, Any] | None = None,
        consumer_facing_name: str | None = None,
        active_token_count: int | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "services": ["DIGITIZATION"],
            "fundingAccountInfo": self.funding_account_info(
                card, token_unique_reference=token_unique_reference, source=source
            ),
            "correlationId": correlation_id,
            "tokenType": "CLOUD",
            "tokenRequestorId": token_requestor_id,
        }
        optional = {
            "walletId": wallet_id,
            "paymentAppInstanceId": payment_app_instance_id,
            "deviceInfo": device.to_json() if device else None,
            "walletProviderDecisioningInfo": dict(decisioning) if decisioning else None,
            "consumerFacingEntityName": consumer_facing_name,
            "activeTokenCount": str(active_token_count) if active_token_count is not None else None,
        }
        payload.update({name: value for name, value in optional.items() if value is not None})
        return payload

    # --- the operations ---------------------------------------------------------------------------------------------
    def authorize_service(self, card: CardData, **fields: Any) -> Answer:
        return self.call("authorizeService", self.authorize_service_payload(card, **fields))

    def request_activation_methods(self, card: CardData, **fields: Any) -> Answer:
        payload = self.authorize_service_payload(card, **fields)
        for name in ("walletProviderDecisioningInfo", "deviceInfo", "activeTokenCount"):
            payload.pop(name, None)  # not RAM fields
        return self.call("requestActivationMethods", payload)

    def deliver_activation_code(
        self,
        *,
        token_unique_reference: str,
        correlation_id: str,
        method: Mapping[str, str],
        activation_code: str | None = None,
        expires_at: datetime | None = None,
    ) -> Answer:
        payload: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "tokenUniqueReference": token_unique_reference,
            "correlationId": correlation_id,
            "activationMethod": {"type": method["type"], "value": method["value"]},
        }
        if activation_code is not None:
            payload["activationCode"] = activation_code
            payload["expirationDateTime"] = timestamp(expires_at or datetime.now(UTC) + timedelta(minutes=15))
        return self.call("deliverActivationCode", payload)

    def validate_activation_code(self, *, token_unique_reference: str, correlation_id: str, code: str) -> Answer:
        payload = {
            "requestId": str(uuid.uuid4()),
            "tokenUniqueReference": token_unique_reference,
            "correlationId": correlation_id,
            "activationCode": code,
        }
        return self.call("validateActivationCode", payload)

    def notify_service_activated_payload(
        self,
        card: CardData,
        *,
        token_unique_reference: str,
        correlation_id: str,
        token_requestor_id: str,
        decision: str = "REQUIRE_ADDITIONAL_AUTHENTICATION",
        wallet_id: str | None = None,
        device: Device | None = None,
        activation_attempts: int = 1,
    ) -> dict[str, Any]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        token = {"token": "5" + f"{secrets.randbelow(10**15):015d}", "expiryMonth": "12", "expiryYear": "30"}
        payload: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "services": ["DIGITIZATION"],
            "fundingAccountInfo": self.funding_account_info(
                card, token_unique_reference=token_unique_reference, token=token
            ),
            "correlationId": correlation_id,
            "tokenRequestorId": token_requestor_id,
            "tokenType": "CLOUD",
            "accountPanSuffix": card.suffix,
            "serviceRequestDateTime": timestamp(now - timedelta(minutes=1)),
            "decision": decision,
            "decisionMadeBy": "AUTHORIZATION_REQUEST",
            "tokenActivatedDateTime": timestamp(now),
            "numberOfActivationAttempts": activation_attempts,
        }
        if wallet_id:
            payload["walletId"] = wallet_id
        if device:
            payload["deviceInfo"] = device.to_json()
        return payload

    def notify_service_activated(self, card: CardData, **fields: Any) -> Answer:
        return self.call("notifyServiceActivated", self.notify_service_activated_payload(card, **fields))

    def notify_token_updated(
        self,
        *,
        token_unique_reference: str,
        reason_code: str = "STATUS_UPDATE",
        status: str | None = None,
        suspended_by: list[str] | None = None,
    ) -> Answer:
        token: dict[str, Any] = {"tokenUniqueReference": token_unique_reference}
        if status is not None:
            token["status"] = status
        if suspended_by:
            token["suspendedBy"] = suspended_by
        payload = {"requestId": str(uuid.uuid4()), "reasonCode": reason_code, "tokens": [token]}
        return self.call("notifyTokenUpdated", payload)
