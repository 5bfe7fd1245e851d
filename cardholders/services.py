"""Write use cases for cardholders and cards."""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_event_record
from cardholders import vault
from cardholders.models import Card, Cardholder, Program


class CardNotInAccountRangeError(ValueError):
    """The card number lies in none of the issuer's configured account ranges."""


def account_range_start_for(card_number: str, range_starts: Iterable[str]) -> str | None:
    """The 19-digit form of the longest of `range_starts` that prefixes this card number, if any."""
    matching = [start for start in range_starts if card_number.startswith(start)]
    if not matching:
        return None
    return max(matching, key=len).ljust(19, "0")


@transaction.atomic
def card_create(
    *,
    card_number: str,
    account_range_starts: Iterable[str],
    expiry_month: int,
    expiry_year: int,
    product_kind: str,
    product_name: str,
    cardholder: Cardholder | None = None,
    program: Program | None = None,
    state: str = Card.State.ACTIVE,
) -> Card:
    """Register a card: its number is sealed at once and only the sealed form and first 6/last 4 are kept.

    `account_range_starts`: the issuer's configured account ranges; the card must lie in one of them.
    """
    sealed = vault.seal(card_number)
    range_start = account_range_start_for(card_number.replace(" ", "").replace("-", ""), account_range_starts)
    if range_start is None:
        raise CardNotInAccountRangeError(
            f"Card {sealed.first_six}…{sealed.last_four} is in no configured account range"
        )
    card = Card(
        cardholder=cardholder,
        program=program,
        product_kind=product_kind,
        product_name=product_name,
        state=state,
        first_six=sealed.first_six,
        last_four=sealed.last_four,
        expiry_month=expiry_month,
        expiry_year=expiry_year,
        account_range_start=range_start,
        number_ciphertext=sealed.ciphertext,
        number_key_id=sealed.key_id,
        number_fingerprint=sealed.fingerprint,
    )
    card.full_clean()
    card.save()
    audit_event_record(
        action="card.created",
        target=card,
        after={"state": card.state, "product_kind": card.product_kind, "masked_number": card.masked_number},
    )
    return card


def card_vault_reseal_batch(*, batch_size: int = 500) -> int:
    """Move up to `batch_size` cards sealed under an older key to the active key. Returns how many moved."""
    with transaction.atomic():
        cards = list(
            Card.objects.select_for_update(skip_locked=True)
            .exclude(number_key_id=vault.active_key_id())
            .order_by("pk")[:batch_size]
        )
        for card in cards:
            previous_key = card.number_key_id
            vault.reseal(card)
            card.save(update_fields=["number_ciphertext", "number_key_id", "updated_at"])
            audit_event_record(
                action="card.resealed",
                target=card,
                before={"key_id": previous_key},
                after={"key_id": card.number_key_id},
            )
    return len(cards)


# The locale each page language stands for when a cardholder chooses it (also what pushes tell the wallet).
LANGUAGE_LOCALES = {"en": "en_US", "de": "de_DE"}


def cardholder_language_set(*, cardholder: Cardholder, language: str, request: HttpRequest | None = None) -> None:
    """Remember the cardholder's choice of page language (one of settings.LANGUAGES) as their preferred locale."""
    locale = LANGUAGE_LOCALES[language]
    if cardholder.preferred_locale == locale:
        return
    before = cardholder.preferred_locale
    cardholder.preferred_locale = locale
    cardholder.save(update_fields=["preferred_locale", "updated_at"])
    audit_event_record(
        action="cardholder.language_chosen",
        actor=cardholder.user,
        target=cardholder,
        before={"preferred_locale": before},
        after={"preferred_locale": locale},
        request=request,
    )


PROFILE_FIELDS = (
    "phone_number",
    "address_line1",
    "address_line2",
    "address_city",
    "address_country_subdivision",
    "address_postal_code",
    "address_country",
)


@transaction.atomic
def cardholder_profile_update(
    *, cardholder: Cardholder, details: Mapping[str, str], request: HttpRequest | None = None
) -> list[str]:
    """Save the cardholder's own name, mobile number and billing address (`details`, as ProfileForm cleaned
    them). The audit record names the fields that changed, never their values. Returns those names."""
    user = cardholder.user
    changed = [name for name in ("first_name", "last_name") if getattr(user, name) != details[name]]
    changed += [name for name in PROFILE_FIELDS if getattr(cardholder, name) != details[name]]
    if not changed:
        return []
    for name in ("first_name", "last_name"):
        setattr(user, name, details[name])
    user.save(update_fields=["first_name", "last_name"])
    for name in PROFILE_FIELDS:
        setattr(cardholder, name, details[name])
    cardholder.full_clean()
    cardholder.save()
    audit_event_record(
        action="cardholder.profile_updated",
        actor=user,
        target=cardholder,
        after={"changed": changed},
        request=request,
    )
    return changed
