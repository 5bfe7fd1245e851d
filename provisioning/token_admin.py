"""Tokens in the staff area: where each card lives as the network last described it, a token's status history
fetched live, finding a card's tokens at the network (through the card, never a typed number) or a token by its
unique reference, and suspending, resuming and removing a token, each with a reason and a comment.

Operations act (`provisioning.change_cardtoken`); Auditors only read: they see no action and a forged POST gets a
403. The records are the network's word, so nobody edits them here.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.timezone import localtime

from audit.admin_mixins import ReadOnlyAdmin
from cardholders.models import Card
from core.card_numbers import mask_card_numbers_in
from provisioning.mdes.customer_service_types import (
    MAX_COMMENT_LENGTH,
    ActivateReason,
    DeleteReason,
    StatusChange,
    SuspendReason,
    Token,
    UnsuspendReason,
)
from provisioning.models import TOKEN_UNIQUE_REFERENCE_PATTERN, CardToken, TokenRequestor
from provisioning.token_support import (
    card_tokens_find,
    token_events,
    token_reference_find,
    token_status_history,
)
from provisioning.tokens import (
    TokenActor,
    TokenChangeRefused,
    TokenChangeUnknown,
    token_remove,
    token_resume,
    token_suspend,
)

Party = CardToken.Party
Status = CardToken.Status

# --- words -----------------------------------------------------------------------------------------------------------
PARTY_WORDS = {
    Party.CARDHOLDER: "the cardholder",
    Party.ISSUER: "the bank",
    Party.TOKEN_REQUESTOR: "the wallet or merchant",
    Party.NETWORK: "the card network",
}
# Who made a change, as the network's status history names them.
INITIATOR_WORDS = {
    "I": "the bank",
    "W": "the wallet or merchant",
    "C": "the cardholder",
    "P": "the card network (P)",
    "M": "the card network (MDES)",
}
DEVICE_TYPE_WORDS = {"21": "phone", "23": "watch", "25": "computer"}
STATUS_WORDS = dict(Status.choices)
SUSPEND_REASONS = {
    SuspendReason.DEVICE_LOST: "The device was lost",
    SuspendReason.DEVICE_STOLEN: "The device was stolen",
    SuspendReason.FRAUDULENT_TRANSACTIONS: "Fraudulent transactions",
    SuspendReason.OTHER: "Another reason (say which in the comment)",
}
RESUME_REASONS = {
    UnsuspendReason.DEVICE_FOUND: "The device was found, or was not stolen",
    UnsuspendReason.NO_FRAUD: "No fraud after all",
    UnsuspendReason.OTHER: "Another reason (say which in the comment)",
}
# F is Mastercard's deprecated code for fraud: staff give T instead, so it is not offered.
REMOVE_REASONS = {
    DeleteReason.DEVICE_LOST: "The device was lost",
    DeleteReason.DEVICE_STOLEN: "The device was stolen",
    DeleteReason.FRAUDULENT_TRANSACTIONS: "Fraudulent transactions",
    DeleteReason.ACCOUNT_CLOSED: "The account is closed",
    DeleteReason.DELETED_BY_ISSUER_OR_CONSUMER: "The cardholder or the bank asked for it",
    DeleteReason.OTHER: "Another reason (say which in the comment)",
}
ACTIVATE_REASONS = {
    ActivateReason.AUTHENTICATED_BY_ACTIVATION_METHOD: "The cardholder confirmed it (code or bank app)",
    ActivateReason.AUTHENTICATED_BY_CUSTOMER_SERVICE: "Customer service confirmed the cardholder",
}
# The history gives a reason code without saying which call it came with (T is fraud when suspending, no fraud when
# resuming), so its page shows the codes with this legend rather than guessing the words.
REASON_LEGEND = (
    ("Suspend", SUSPEND_REASONS),
    ("Resume", RESUME_REASONS),
    ("Remove", {**REMOVE_REASONS, DeleteReason.FRAUD_DEPRECATED: "Fraud (Mastercard's old code for T)"}),
    ("Activate", ACTIVATE_REASONS),
)
REMOVE_SCOPES = {
    "device": "From the device or merchant only: the network keeps the token, so subscriptions and payments on file "
    "keep working",
    "everywhere": "Everywhere, for good: the network deletes the token. This cannot be undone",
}


def suspender_words(token: CardToken) -> str:
    return " and ".join(sorted(PARTY_WORDS[Party(party)] for party in token.suspended_by))


def status_words(token: CardToken, *, with_suspenders: bool = True) -> str:
    """The token's state as staff read it: its status, who holds a suspension, a removal from the device."""
    words = str(token.get_status_display())
    if with_suspenders and token.suspended_by:
        words += f" by {suspender_words(token)}"
    if token.deleted_from_consumer_app and token.status != Status.DELETED:
        words += ", removed from the device (the network keeps it)"
    return words


def device_words(token: CardToken) -> str:
    kind = DEVICE_TYPE_WORDS.get(token.device_type, "")
    if token.device_name:
        return f"{token.device_name} ({kind})" if kind else token.device_name
    return kind.capitalize() or "—"


def token_label(token: CardToken) -> str:
    """A token as people tell them apart: where it lives and the last digits of the token (never of the card)."""
    place = token.token_requestor_name or token.trid or "Unknown token requestor"
    device = f" on {token.device_name}" if token.device_name else ""
    suffix = f" (token ••{token.token_suffix})" if token.token_suffix else ""
    return f"{place}{device}{suffix}"


def card_words(card: Card) -> str:
    return f"{card.product_name} {card.first_six}…{card.last_four}"


def history_rows(changes: tuple[StatusChange, ...]) -> list[dict[str, Any]]:
    """The network's status history in staff's words (the reason stays a code: see REASON_LEGEND)."""
    return [
        {
            "at": parse_datetime(change.at or ""),
            "status": str(STATUS_WORDS.get(change.status_code, change.status_description or change.status_code)),
            "by": INITIATOR_WORDS.get(change.initiator or "", change.initiator or "—"),
            "reason": change.reason_code,
            "recorded_as": change.audit_user_name,
            "comment_id": change.comment_id,
        }
        for change in changes
    ]


def network_token_row(token: Token) -> dict[str, Any]:
    """A token the network described but the portal does not store, in staff's words."""
    kind = DEVICE_TYPE_WORDS.get(token.device_type or "", "")
    device = " ".join(part for part in (token.device_name, f"({kind})" if kind else "") if part)
    return {
        "requestor": token.consumer_facing_name or token.token_requestor_name or "Unknown token requestor",
        "trid": token.token_requestor_id or "—",
        "status": str(STATUS_WORDS.get(token.status, token.status_description or token.status)),
        "since": parse_datetime(token.status_at or ""),
        "suspenders": ", ".join(INITIATOR_WORDS.get(code, code) for code in token.suspenders) or "—",
        "device": device or "—",
        "token_suffix": f"••{token.token_suffix}" if token.token_suffix else "—",
        "card_suffix": f"•••• {token.account_pan_suffix}" if token.account_pan_suffix else "not given",
        "removed_from_device": "yes" if token.deleted_from_consumer_app else "no",
    }


def _typed_card_number(values: dict[str, Any]) -> bool:
    """A card number among what staff typed: refused before anything is done with it, and never shown back."""
    return any(isinstance(value, str) and mask_card_numbers_in(value) != value for value in values.values())


CARD_NUMBER_REFUSED = (
    "That looks like a card number. Card numbers are never typed, searched or shown here: choose the card instead "
    "(from the card list, by product, last four digits or cardholder). Nothing was sent."
)


# --- forms -----------------------------------------------------------------------------------------------------------
def _choices(words: dict[Any, str]) -> list[tuple[str, str]]:
    return [(str(code.value), text) for code, text in words.items()]


class TokenChangeForm(forms.Form):
    """A reason (each action has its own codes, offered in words) and a comment; a removal also says how far."""

    field_order = ("reason", "scope", "comment")
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=MAX_COMMENT_LENGTH,
        help_text="Why, in a sentence. It goes to the card network with your name and stays in the audit trail. "
        "Never a card number.",
    )


class SuspendForm(TokenChangeForm):
    reason = forms.ChoiceField(choices=_choices(SUSPEND_REASONS), widget=forms.RadioSelect)


class ResumeForm(TokenChangeForm):
    reason = forms.ChoiceField(choices=_choices(RESUME_REASONS), widget=forms.RadioSelect)


class RemoveForm(TokenChangeForm):
    reason = forms.ChoiceField(choices=_choices(REMOVE_REASONS), widget=forms.RadioSelect)
    scope = forms.ChoiceField(choices=list(REMOVE_SCOPES.items()), widget=forms.RadioSelect, label="Remove it")


class CardChoiceForm(forms.Form):
    card = forms.ModelChoiceField(
        queryset=Card.objects.all(),
        help_text="Choose the card with the magnifier: the card list opens, search it by product, last four digits "
        "or cardholder.",
    )

    def __init__(self, *args: Any, admin_site: admin.AdminSite, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["card"].widget = ForeignKeyRawIdWidget(CardToken._meta.get_field("card").remote_field, admin_site)


class ReferenceForm(forms.Form):
    reference = forms.RegexField(
        regex=TOKEN_UNIQUE_REFERENCE_PATTERN,
        max_length=64,
        label="Token unique reference",
        widget=forms.TextInput(attrs={"size": 64, "spellcheck": "false", "autocomplete": "off"}),
        help_text="Exactly as the wallet, the merchant or Mastercard gives it, e.g. DWSPMC00000000013…",
        error_messages={"invalid": "A token unique reference is 1 to 64 letters, digits, - or _."},
    )


# --- actions ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenAction:
    name: str
    button: str
    done: str
    audit_action: str  # the service's
    explanation: str
    form: type[TokenChangeForm]
    is_open: Callable[[CardToken], bool]
    perform: Callable[[CardToken, TokenActor, dict[str, Any]], CardToken]


ACTIONS = {
    action.name: action
    for action in (
        TokenAction(
            name="suspend",
            button="Suspend",
            done="Suspended",
            audit_action="token.suspended",
            explanation="The token stops working for payments until the bank resumes it. The cardholder cannot "
            "resume a suspension made by the bank.",
            form=SuspendForm,
            # Also on a token the cardholder paused: the bank's pause then stays until the bank lifts it.
            is_open=lambda token: (
                token.is_live
                and token.status in (Status.ACTIVE, Status.SUSPENDED)
                and Party.ISSUER not in token.suspended_by
            ),
            perform=lambda token, actor, data: token_suspend(
                token, actor=actor, reason_code=data["reason"], comment=data["comment"]
            ),
        ),
        TokenAction(
            name="resume",
            button="Resume",
            done="Resumed",
            audit_action="token.resumed",
            explanation="Lifts the bank's suspension. One set by the wallet, the merchant or the network stays "
            "until they lift it: the token's page then shows who still holds one.",
            form=ResumeForm,
            is_open=lambda token: (
                token.status == Status.SUSPENDED and bool(token.suspended_by & {Party.ISSUER, Party.CARDHOLDER})
            ),
            perform=lambda token, actor, data: token_resume(
                token, actor=actor, reason_code=data["reason"], comment=data["comment"]
            ),
        ),
        TokenAction(
            name="remove",
            button="Remove",
            done="Removed",
            audit_action="token.removed",
            explanation="Takes the card out of the wallet or merchant: from the device only, or everywhere for good.",
            form=RemoveForm,
            is_open=lambda token: token.is_live,
            perform=lambda token, actor, data: token_remove(
                token,
                actor=actor,
                everywhere=data["scope"] == "everywhere",
                reason_code=data["reason"],
                comment=data["comment"],
            ),
        ),
    )
}


# --- admin -----------------------------------------------------------------------------------------------------------
class CardFilter(admin.SimpleListFilter):
    """The tokens of one card, chosen elsewhere (the card's page, the find page): never a list of every card."""

    title = "card"
    parameter_name = "card"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        card = chosen_card(self.value())
        return [(str(card.pk), card_words(card))] if card else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[CardToken]) -> QuerySet[CardToken]:
        card_id = _card_id(self.value())
        return queryset if card_id is None else queryset.filter(card_id=card_id)


def _card_id(value: object) -> int | None:
    """A card's id from a query string: digits that fit a database integer, else None."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 19 else None


def chosen_card(value: object) -> Card | None:
    card_id = _card_id(value)
    return None if card_id is None else Card.objects.select_related("token_check").filter(pk=card_id).first()


class CardTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "card_column",
        "requestor_with_logo",
        "device",
        "status_column",
        "suspended_by_column",
        "checked",
    )
    # The card column links to the card's other tokens, so the token opens from its requestor ("in DemoPay").
    list_display_links = ("requestor_with_logo",)
    list_filter = ("status", ("token_requestor", admin.RelatedOnlyFieldListFilter), CardFilter)
    search_fields = ("=token_unique_reference",)
    search_help_text = (
        "The token unique reference, exactly. Card numbers are never searched: find a card's tokens through the card."
    )
    list_select_related = ("card", "token_requestor__logo")
    empty_value_display = "Not known"
    ordering = ("-status_at", "-id")
    fieldsets = (
        (
            "Where the card lives",
            {"fields": ("card_link", "requestor_with_logo", "trid", "device", "wallet_id", "token_suffix")},
        ),
        (
            "As the network last described it",
            {
                "fields": (
                    "token_unique_reference",
                    "status_column",
                    "suspended_by_column",
                    "status_at",
                    "network_suspenders",
                    "removed_from_device",
                    "first_seen_at",
                    "checked_at",
                )
            },
        ),
    )
    readonly_fields = (
        "card_link",
        "requestor_with_logo",
        "trid",
        "device",
        "wallet_id",
        "token_suffix",
        "token_unique_reference",
        "status_column",
        "suspended_by_column",
        "status_at",
        "network_suspenders",
        "removed_from_device",
        "first_seen_at",
        "checked_at",
    )

    # --- columns and fields ------------------------------------------------------------------------------------------
    @admin.display(description="Card", ordering="card__product_name")
    def card_column(self, token: CardToken) -> str:
        url = f"{reverse('admin:provisioning_cardtoken_changelist')}?{urlencode({'card': token.card_id})}"
        return format_html(
            '<a href="{}" title="Every token of this card">{}…{}</a><br><span class="quiet">{}</span>',
            url,
            token.card.first_six,
            token.card.last_four,
            token.card.product_name,
        )

    @admin.display(description="Card")
    def card_link(self, token: CardToken) -> str:
        card_page = reverse("admin:cardholders_card_change", args=[token.card_id])
        tokens = f"{reverse('admin:provisioning_cardtoken_changelist')}?{urlencode({'card': token.card_id})}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">every token of this card</a>', card_page, card_words(token.card), tokens
        )

    @admin.display(description="Token requestor", ordering="token_requestor_name")
    def requestor_with_logo(self, token: CardToken) -> str:
        requestor: TokenRequestor | None = token.token_requestor
        name = token.token_requestor_name or token.trid or "Unknown"
        if requestor is None or requestor.logo is None:
            return name
        url = reverse("provisioning:logo", args=[requestor.logo.asset_id, "png" if requestor.logo.png else "svg"])
        return format_html('<img src="{}" alt="" width="24" height="24" class="token-logo"> {}', url, name)

    @admin.display(description="Device")
    def device(self, token: CardToken) -> str:
        return device_words(token)

    @admin.display(description="Status", ordering="status")
    def status_column(self, token: CardToken) -> str:
        return status_words(token, with_suspenders=False)

    @admin.display(description="Suspended by")
    def suspended_by_column(self, token: CardToken) -> str:
        return suspender_words(token) or "—"

    @admin.display(description="Checked at (UTC)", ordering="checked_at")
    def checked(self, token: CardToken) -> str:
        return date_format(localtime(token.checked_at), "Y-m-d H:i")

    @admin.display(description="Suspenders at the network")
    def network_suspenders(self, token: CardToken) -> str:
        return ", ".join(f"{code} ({INITIATOR_WORDS.get(code, 'unknown')})" for code in token.suspenders) or "—"

    @admin.display(description="Removed from the device only")
    def removed_from_device(self, token: CardToken) -> str:
        if not token.deleted_from_consumer_app:
            return "No"
        return "Yes: gone from the device or merchant, kept at the network (subscriptions keep working)"

    # --- pages -------------------------------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        actions = [
            path(
                f"<int:object_id>/{name}/",
                view(partial(self.action_view, action=action)),
                name=f"provisioning_cardtoken_{name}",
            )
            for name, action in ACTIONS.items()
        ]
        return [path("find/", view(self.find_view), name="provisioning_cardtoken_find"), *actions, *super().get_urls()]

    def may_act(self, request: HttpRequest) -> bool:
        return request.user.has_perm("provisioning.change_cardtoken")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        query = request.GET.get("q", "").strip()
        if _typed_card_number({"q": query}):
            messages.error(request, CARD_NUMBER_REFUSED)
            return HttpResponseRedirect(reverse("admin:provisioning_cardtoken_find"))
        searchable = re.fullmatch(TOKEN_UNIQUE_REFERENCE_PATTERN.strip("^$"), query) is not None
        card = chosen_card(request.GET.get("card"))
        context = {
            "title": f"Tokens of {card_words(card)}" if card else "Card tokens: where cards live",
            **(extra_context or {}),
            "chosen_card": card,
            # A reference the portal does not know may still be the network's: offer to ask it.
            "unknown_reference": query
            if searchable and not CardToken.objects.filter(token_unique_reference__iexact=query).exists()
            else "",
        }
        return super().changelist_view(request, extra_context=context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: CardToken | None = None,
    ) -> HttpResponse:
        if obj is not None:
            may_act = self.may_act(request)
            may_read_audit = request.user.has_perm("audit.view_auditevent")
            history = token_status_history(obj, user=request.user, request=request)
            context.update(
                {
                    "history": history,
                    "history_rows": history_rows(history.changes),
                    "reason_legend": [(kind, _choices(words)) for kind, words in REASON_LEGEND],
                    "may_read_audit": may_read_audit,
                    "events": list(token_events(obj)[:50]) if may_read_audit else [],
                    "token_actions": [
                        {"button": action.button, "url": reverse(f"admin:provisioning_cardtoken_{name}", args=[obj.pk])}
                        for name, action in ACTIONS.items()
                        if may_act and action.is_open(obj)
                    ],
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def action_view(self, request: HttpRequest, object_id: int, action: TokenAction) -> HttpResponse:
        """One change at the network, on a page of its own: the reason in words, a comment, then the service."""
        if not self.may_act(request):
            raise PermissionDenied
        token = self.get_queryset(request).filter(pk=object_id).first()
        if token is None:
            raise Http404("No such token")
        token_page = reverse("admin:provisioning_cardtoken_change", args=[token.pk])
        if request.method == "POST" and _typed_card_number(request.POST.dict()):
            messages.error(request, CARD_NUMBER_REFUSED)
            return HttpResponseRedirect(request.path)
        form = action.form(request.POST) if request.method == "POST" else action.form()
        if request.method == "POST" and form.is_valid():
            outcome = self._perform(request, action, token, form.cleaned_data)
            if outcome is not None:
                return outcome
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{action.button} a token",
            "action": action,
            "token": token,
            "token_label": token_label(token),
            "token_status": status_words(token),
            "token_device": device_words(token),
            "card": card_words(token.card),
            "form": form,
            "token_page": token_page,
        }
        return TemplateResponse(request, "admin/provisioning/cardtoken/action.html", context)

    def _perform(
        self, request: HttpRequest, action: TokenAction, token: CardToken, data: dict[str, Any]
    ) -> HttpResponse | None:
        """The change through the service; a redirect to the token once the network took it (or may have), None
        to show the form again with the service's message."""
        token_page = reverse("admin:provisioning_cardtoken_change", args=[token.pk])
        try:
            changed = action.perform(token, TokenActor.staff(request.user, request), data)
        except TokenChangeRefused as error:
            messages.error(request, str(error))
            return None
        except TokenChangeUnknown as error:
            messages.warning(request, str(error))
            return HttpResponseRedirect(token_page)
        now = status_words(changed)
        messages.success(
            request, f"{action.done} at the card network: {token_label(changed)}. It is now {now[:1].lower()}{now[1:]}."
        )
        return HttpResponseRedirect(token_page)

    def find_view(self, request: HttpRequest) -> HttpResponse:
        """Find tokens at the network: a card's (chosen, never typed) or one by its unique reference."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST" and _typed_card_number(request.POST.dict()):
            messages.error(request, CARD_NUMBER_REFUSED)
            return HttpResponseRedirect(request.path)
        card_form = CardChoiceForm(initial={"card": chosen_card(request.GET.get("card"))}, admin_site=self.admin_site)
        reference_form = ReferenceForm()
        found = None
        if request.method == "POST":
            if "card" in request.POST:
                card_form = CardChoiceForm(request.POST, admin_site=self.admin_site)
                if card_form.is_valid():
                    return self._find_by_card(request, card_form.cleaned_data["card"])
            else:
                reference_form = ReferenceForm(request.POST)
                if reference_form.is_valid():
                    found = token_reference_find(
                        reference_form.cleaned_data["reference"], user=request.user, request=request
                    )
                    if found.record is not None:
                        messages.success(request, f"The portal knows this token: {token_label(found.record)}.")
                        return HttpResponseRedirect(
                            reverse("admin:provisioning_cardtoken_change", args=[found.record.pk])
                        )
                    if found.problem:
                        messages.error(request, found.problem)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Find tokens at the card network",
            "media": self.media + card_form.media,
            "card_form": card_form,
            "reference_form": reference_form,
            "found": found,
            "found_rows": [network_token_row(token) for token in found.network] if found else [],
        }
        return TemplateResponse(request, "admin/provisioning/cardtoken/find.html", context)

    def _find_by_card(self, request: HttpRequest, card: Card) -> HttpResponse:
        problem = card_tokens_find(card, user=request.user, request=request)
        if problem:
            messages.error(request, f"{problem} The list shows what the portal knew before.")
        else:
            messages.success(request, f"The card network was asked just now for the tokens of {card_words(card)}.")
        return HttpResponseRedirect(
            f"{reverse('admin:provisioning_cardtoken_changelist')}?{urlencode({'card': card.pk})}"
        )
