"""Tokens as MDES keeps them, for the Customer Service API: created when a simulated wallet approves a push.

Statuses follow the Customer Service API (mdes-beyond-the-push.md section 3): CurrentStatusCode U (in progress),
A active, S suspended, D deleted; Suspenders I (issuer), W (wallet / token requestor), C (cardholder), P, M. A token is
active again only when every suspender has unsuspended; a suspender lifts only its own suspension.
"""

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.state import SandboxState

_ACCOUNT_NUMBER = re.compile(r"[0-9]{12,19}")
_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Device types of the Token object (two-digit codes): 21 phone, 23 watch, 25 PC.
DEVICE_TYPES = {"21": "Mobile phone", "23": "Watch", "25": "PC"}


def _timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_token_unique_reference() -> str:
    """48 characters, like MDES's (DWSPMC... for devices): prefix and 42 hex digits."""
    return "DSBXMC" + secrets.token_hex(21).upper()


@dataclass
class StatusChange:
    status_code: str
    description: str
    at: datetime
    initiator: str  # I issuer, W wallet / token requestor, C cardholder, P, M MDES
    reason_code: str | None = None
    comment_id: str | None = None
    audit_info: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "StatusCode": self.status_code,
            "StatusDescription": self.description,
            "StatusDateTime": _timestamp(self.at),
            "Initiator": self.initiator,
        }
        if self.reason_code:
            data["ReasonCode"] = self.reason_code
        if self.comment_id:
            data["CommentId"] = self.comment_id
        if self.audit_info:
            data["AuditInfo"] = self.audit_info
        return data


STATUS_DESCRIPTIONS = {"U": "Unmapped", "A": "Active", "S": "Suspended", "D": "Deactivated"}


@dataclass
class SandboxToken:
    token_unique_reference: str
    trid: str
    token_requestor_name: str
    consumer_facing_name: str
    wallet_id: str | None
    account_number: str = field(repr=False)
    token_suffix: str
    expiration_date: str  # MMYY
    token_type: str  # S secure element, C cloud, F card on file
    device_name: str | None
    device_type: str | None
    created_at: datetime
    status: str = "A"
    provisioning_status: str = "S"  # S success, A awaiting activation
    final_decision: str = "A"  # A approved, R require additional authentication, D declined
    activated_at: datetime | None = None
    status_at: datetime | None = None
    suspenders: list[str] = field(default_factory=list)
    deleted_from_consumer_app: bool = False
    history: list[StatusChange] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def account_suffix(self) -> str:
        return self.account_number[-4:]

    def to_cs_json(self) -> dict[str, Any]:
        """The Token object of a Customer Service search answer."""
        data: dict[str, Any] = {
            "TokenUniqueReference": self.token_unique_reference,
            "TokenRequestorId": self.trid,
            "TokenRequestorName": self.token_requestor_name,
            "TokenRequestorConsumerFacingEntityName": self.consumer_facing_name,
            "TokenSuffix": self.token_suffix,
            "ExpirationDate": self.expiration_date,
            "TokenType": self.token_type,
            "CurrentStatusCode": self.status,
            "CurrentStatusDescription": STATUS_DESCRIPTIONS[self.status],
            "CurrentStatusDateTime": _timestamp(self.status_at or self.created_at),
            "ProvisioningStatusCode": self.provisioning_status,
            "FinalTokenizationDecision": self.final_decision,
            "DigitizationRequestDateTime": _timestamp(self.created_at),
            "TokenDeletedFromConsumerApp": self.deleted_from_consumer_app,
            "AccountPanSuffix": self.account_suffix,
        }
        if self.wallet_id:
            data["WalletId"] = self.wallet_id
        if self.activated_at:
            data["TokenActivatedDateTime"] = _timestamp(self.activated_at)
        if self.suspenders:
            data["Suspenders"] = {"Suspender": list(self.suspenders)}
        if self.device_name or self.device_type:
            device: dict[str, Any] = {}
            if self.device_name:
                device["DeviceName"] = self.device_name
            if self.device_type:
                device["DeviceType"] = self.device_type
            data["Device"] = device
        return data

    def to_control_json(self) -> dict[str, Any]:
        """For the control API: the Customer Service view plus the history (never the account number)."""
        return {**self.to_cs_json(), "History": [change.to_json() for change in self.history]}

    def change(self, status: str, at: datetime, initiator: str, **details: Any) -> None:
        self.status = status
        self.status_at = at
        self.history.append(StatusChange(status, STATUS_DESCRIPTIONS[status], at, initiator, **details))


def token_from_json(data: dict[str, Any], sandbox_state: "SandboxState") -> SandboxToken:
    """A token for the control API; ValueError names the field that is wrong."""
    account_number = data.get("accountNumber")
    if not isinstance(account_number, str) or not _ACCOUNT_NUMBER.fullmatch(account_number):
        raise ValueError("accountNumber must be 12 to 19 digits")
    token_requestor = sandbox_state.token_requestor(str(data.get("tokenRequestorId", "")))
    if token_requestor is None:
        raise ValueError("tokenRequestorId names no token requestor of the sandbox")
    reference = data.get("tokenUniqueReference", new_token_unique_reference())
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference) or sandbox_state.token(reference):
        raise ValueError("tokenUniqueReference must be 1 to 64 letters, digits, - or _, and new")
    status = data.get("status", "A")
    if status not in ("A", "U"):
        raise ValueError("status must be A (active) or U (awaiting activation)")
    device_type = data.get("deviceType", "21")
    if device_type is not None and device_type not in DEVICE_TYPES:
        raise ValueError(f"deviceType must be one of {', '.join(DEVICE_TYPES)}")
    device_name = data.get("deviceName", "Test phone")
    if device_name is not None and (not isinstance(device_name, str) or not 1 <= len(device_name) <= 64):
        raise ValueError("deviceName must be 1 to 64 characters")
    now = sandbox_state.now()
    return SandboxToken(
        token_unique_reference=reference,
        trid=token_requestor.trid,
        token_requestor_name=token_requestor.name,
        consumer_facing_name=token_requestor.consumer_facing_name,
        wallet_id=token_requestor.wallet_id,
        account_number=account_number,
        token_suffix=f"{secrets.randbelow(10_000):04d}",
        expiration_date=f"{now.month:02d}{(now.year + 3) % 100:02d}",
        token_type="C" if token_requestor.requestor_type == "WALLET" else "F",
        device_name=device_name,
        device_type=device_type,
        created_at=now,
        status=status,
        provisioning_status="A" if status == "U" else "S",
        final_decision="R" if status == "U" else "A",
        activated_at=None if status == "U" else now,
    )
