"""What the simulated Click to Pay and the simulated card-on-file merchant keep (in memory, under the state's lock).

Plain records, no Flask: sandbox.state holds one MerchantRecords and clears it on reset; sandbox/click_to_pay.py and
sandbox/card_on_file.py fill it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACCOUNT_HOLDER_FIELDS = {
    "NAME": "accountHolderName",
    "EMAIL_ADDRESS": "accountHolderEmailAddress",
    "MOBILE_PHONE_NUMBER": "accountHolderMobilePhoneNumber",
    "ADDRESS": "accountHolderAddress",
}


@dataclass(frozen=True)
class MerchantSession:
    """A redirect a Click to Pay or card-on-file page accepted, kept apart from the generic pages' sessions so that
    their decision form cannot redeem these receipts the generic way."""

    id: str
    trid: str
    receipts: tuple[str, ...]
    callback_url: str | None
    data_supplied: bool  # accountHolderDataSupplied, as the redirect said


@dataclass
class ClickToPayCard:
    token_unique_reference: str
    account_suffix: str
    product: str  # "Debit Mastercard", from the receipt's product prefix
    issuer_trid: str
    added_at: datetime


@dataclass
class ClickToPayProfile:
    email: str  # the identity, lower case
    name: str | None
    mobile: dict[str, str] | None = field(repr=False)
    cards: list[ClickToPayCard] = field(default_factory=list)


@dataclass(frozen=True)
class ClickToPayDelivery:
    """What one receipt brought Click to Pay: exactly the account holder data MDES released, nothing else."""

    receipt: str
    trid: str
    tokenization_decision: str
    account_holder_data: dict[str, Any] | None = field(repr=False)
    result: str
    token_unique_reference: str | None
    profile_email: str | None
    at: datetime

    @property
    def kinds_received(self) -> list[str]:
        data = self.account_holder_data or {}
        return [kind for kind, name in ACCOUNT_HOLDER_FIELDS.items() if name in data]

    def to_json(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt,
            "tokenRequestorId": self.trid,
            "tokenizationDecision": self.tokenization_decision,
            "accountHolderData": self.account_holder_data,
            "kindsReceived": self.kinds_received,
            "kindsNotReceived": [kind for kind in ACCOUNT_HOLDER_FIELDS if kind not in self.kinds_received],
            "result": self.result,
            "tokenUniqueReference": self.token_unique_reference,
            "profileEmail": self.profile_email,
            "at": self.at.isoformat(),
        }


@dataclass
class CardOnFileEnrolment:
    """A card a card-on-file merchant saved from a receipt, and its post-tokenization authentication."""

    id: str
    trid: str
    receipt: str
    callback_url: str | None
    token_unique_reference: str
    account_suffix: str
    account: str | None  # the e-mail the person signed in or up with, if they did
    authentication: str  # "none", "code"
    status: str = "saved"  # saved, code, authenticated, deleted; declined (the issuer refused: no token)
    code_origin: str = ""  # "issuer": through the issuer's services; "sandbox": made here, sent to the inbox
    correlation_id: str = ""
    method: dict[str, str] | None = None
    sandbox_code: str | None = field(default=None, repr=False)
    code_expires_at: datetime | None = None
    attempts: int = 0
    issuer_decision: str = ""
    message: str = ""

    @property
    def result(self) -> str:
        """The callback's word: a saved card without a check is APPROVED, one that passed it AUTHENTICATED."""
        return {
            "saved": "APPROVED",
            "authenticated": "AUTHENTICATED",
            "deleted": "DELETED",
            "declined": "DECLINED",
        }.get(self.status, "")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tokenRequestorId": self.trid,
            "receipt": self.receipt,
            "tokenUniqueReference": self.token_unique_reference,
            "accountPanSuffix": self.account_suffix,
            "account": self.account,
            "authentication": self.authentication,
            "status": self.status,
            "codeOrigin": self.code_origin,
            "method": self.method,
            "attempts": self.attempts,
            "issuerDecision": self.issuer_decision,
            "result": self.result,
        }


class MerchantRecords:
    def __init__(self) -> None:
        self.sessions: dict[str, MerchantSession] = {}
        self.profiles: dict[str, ClickToPayProfile] = {}
        self.deliveries: list[ClickToPayDelivery] = []
        self.card_on_file: dict[str, CardOnFileEnrolment] = {}

    def clear(self) -> None:
        self.sessions.clear()
        self.profiles.clear()
        self.deliveries.clear()
        self.card_on_file.clear()
