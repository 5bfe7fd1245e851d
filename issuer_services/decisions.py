"""The tokenization decision: facts about one request, the staff's DecisionRules, and which rules decided.

Pure and quick (no query, no network): `services.authorize_service` gathers the facts, this weighs them. The base
decision comes from the card and the source; the wallet's word may lower a manual add; every other rule can only
raise the decision (APPROVED < REQUIRE_ADDITIONAL_AUTHENTICATION < DECLINED), so no rule undoes a stricter one.
Each rule that changed or confirmed the outcome leaves its reason code.
"""

import enum
from dataclasses import dataclass

from issuer_services.models import Decision, DecisionRules

PUSH_SOURCE = "ACCOUNT_ADDED_VIA_APPLICATION"
_SEVERITY = {Decision.APPROVED: 0, Decision.REQUIRE_ADDITIONAL_AUTHENTICATION: 1, Decision.DECLINED: 2}


class Reason(enum.StrEnum):
    UNKNOWN_CARD = "unknown_card"
    CARD_NOT_ACTIVE = "card_not_active"
    EXPIRY_MISMATCH = "expiry_mismatch"
    PUSH_FROM_PORTAL = "push_from_portal"
    PUSH_NOT_FOUND = "push_not_found"
    MANUAL_ADD = "manual_add"
    WALLET_APPROVED = "wallet_approved"
    WALLET_DECLINED = "wallet_declined"
    WALLET_STEP_UP = "wallet_step_up"
    LOW_DEVICE_SCORE = "low_device_score"
    LOW_ACCOUNT_SCORE = "low_account_score"
    MANY_ACTIVE_TOKENS = "many_active_tokens"
    NEW_DEVICE = "new_device"
    CLICK_TO_PAY_NO_STEP_UP = "click_to_pay_no_step_up"


@dataclass(frozen=True)
class Facts:
    card_known: bool
    card_active: bool
    expiry_matches: bool
    source: str
    portal_pushed: bool  # the portal pushed this card to this token requestor lately
    wallet_recommendation: str = ""
    device_score: int | None = None
    account_score: int | None = None
    active_tokens: int = 0
    new_device: bool = False
    click_to_pay: bool = False  # the token requestor is Click to Pay (CLICK_TO_PAY_TOKEN_REQUESTOR_IDS)

    @property
    def is_push(self) -> bool:
        return self.source == PUSH_SOURCE


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    reasons: tuple[str, ...]


def _raise(current: Decision, to: Decision) -> Decision:
    return to if _SEVERITY[to] > _SEVERITY[current] else current


def _below(score: int | None, threshold: int) -> bool:
    return threshold > 0 and score is not None and score < threshold


def decide(facts: Facts, rules: DecisionRules) -> Outcome:
    if not facts.card_known:
        return Outcome(Decision.DECLINED, (Reason.UNKNOWN_CARD,))
    if not facts.card_active:
        return Outcome(Decision.DECLINED, (Reason.CARD_NOT_ACTIVE,))
    if not facts.expiry_matches:
        return Outcome(Decision.DECLINED, (Reason.EXPIRY_MISMATCH,))
    reasons: list[str] = []
    if facts.is_push and rules.approve_pushes and (facts.portal_pushed or not rules.push_must_match):
        decision = Decision.APPROVED
        reasons.append(Reason.PUSH_FROM_PORTAL)
    else:
        decision = Decision(rules.manual_decision)
        reasons.append(Reason.PUSH_NOT_FOUND if facts.is_push and rules.approve_pushes else Reason.MANUAL_ADD)
        lowers = (
            rules.approve_manual_on_wallet_approval
            and facts.wallet_recommendation == Decision.APPROVED
            and (facts.device_score or 0) >= rules.approve_min_device_score
            and (facts.account_score or 0) >= rules.approve_min_account_score
            and not facts.new_device
        )
        if lowers and decision == Decision.REQUIRE_ADDITIONAL_AUTHENTICATION:
            decision = Decision.APPROVED
            reasons.append(Reason.WALLET_APPROVED)
        if rules.new_device_step_up and facts.new_device:
            decision = _raise(decision, Decision.REQUIRE_ADDITIONAL_AUTHENTICATION)
            reasons.append(Reason.NEW_DEVICE)

    raises: list[tuple[bool, Decision, Reason]] = [
        (
            rules.follow_wallet_decline and facts.wallet_recommendation == Decision.DECLINED,
            Decision.DECLINED,
            Reason.WALLET_DECLINED,
        ),
        (
            rules.follow_wallet_step_up and facts.wallet_recommendation == Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
            Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
            Reason.WALLET_STEP_UP,
        ),
        (_below(facts.device_score, rules.device_score_decline_below), Decision.DECLINED, Reason.LOW_DEVICE_SCORE),
        (
            _below(facts.device_score, rules.device_score_step_up_below),
            Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
            Reason.LOW_DEVICE_SCORE,
        ),
        (_below(facts.account_score, rules.account_score_decline_below), Decision.DECLINED, Reason.LOW_ACCOUNT_SCORE),
        (
            _below(facts.account_score, rules.account_score_step_up_below),
            Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
            Reason.LOW_ACCOUNT_SCORE,
        ),
        (
            0 < rules.active_tokens_decline_at <= facts.active_tokens,
            Decision.DECLINED,
            Reason.MANY_ACTIVE_TOKENS,
        ),
        (
            0 < rules.active_tokens_step_up_at <= facts.active_tokens,
            Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
            Reason.MANY_ACTIVE_TOKENS,
        ),
    ]
    for applies, to, reason in raises:
        if applies:
            decision = _raise(decision, to)
            if reason not in reasons:
                reasons.append(reason)
    if facts.is_push and facts.click_to_pay and decision == Decision.REQUIRE_ADDITIONAL_AUTHENTICATION:
        # Click to Pay's rule: the issuer authenticates the cardholder before the push and never asks for more
        # during it. The portal's own push stays approved; a push it did not make is declined, not stepped up.
        decision = Decision.APPROVED if Reason.PUSH_FROM_PORTAL in reasons else Decision.DECLINED
        reasons.append(Reason.CLICK_TO_PAY_NO_STEP_UP)
    return Outcome(decision, tuple(reasons))
