"""Landing links in the staff area: minting one for a card (shown once), watching them, revoking them."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html_join

from audit.admin_mixins import ReadOnlyAdmin
from cardholders.models import Card
from core.images import RasterImageFormField
from core.qr_codes import qr_svg_data_uri
from landing import services
from landing.models import LandingLink

PURPOSE_BY_PRODUCT: dict[str, str] = {
    Card.ProductKind.GIFT: LandingLink.Purpose.GIFT,
    Card.ProductKind.EXPENSE: LandingLink.Purpose.EXPENSE,
    Card.ProductKind.EMERGENCY: LandingLink.Purpose.EMERGENCY,
}


class MintForm(forms.Form):
    purpose = forms.ChoiceField(choices=LandingLink.Purpose.choices)
    recipient_phone = forms.CharField(
        required=False, max_length=16, help_text="International format, e.g. +4915112345678. Codes go here first."
    )
    recipient_email = forms.EmailField(required=False)
    message = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    expires_in_days = forms.IntegerField(min_value=1, max_value=settings.LANDING_LINK_MAX_DAYS)
    program_name = forms.CharField(
        required=False, max_length=100, help_text="Shown as the sender; the card's program name when empty."
    )
    card_art = RasterImageFormField(
        required=False, help_text="PNG, JPEG or WebP; the card's or its program's art when empty."
    )
    deliver = forms.BooleanField(
        required=False, initial=True, help_text="Send the link to the recipient now (text message, else e-mail)."
    )


@admin.register(LandingLink)
class LandingLinkAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "card", "purpose", "link_status", "expires_at", "created_by_label", "first_opened_at")
    list_filter = ("purpose", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("public_id", "card__last_four", "recipient_email", "recipient_phone")
    list_select_related = ("card",)
    actions = ("revoke_links",)
    fields = (
        "public_id",
        "card",
        "purpose",
        "link_status",
        "recipient_phone",
        "recipient_email",
        "message",
        "program_name",
        "max_pushes",
        "expires_at",
        "created_at",
        "created_by_label",
        "first_opened_at",
        "revoked_at",
        "revoked_by_label",
        "push_list",
    )

    @admin.display(description="Status")
    def link_status(self, link: LandingLink) -> str:
        return str(LandingLink.Status(link.status()).label)

    @admin.display(description="Pushes through this link")
    def push_list(self, link: LandingLink) -> str:
        pushes = link.pushes.select_related("push__token_requestor").order_by("-created_at")
        return (
            format_html_join(
                "",
                "<div>{} to {}: {}</div>",
                (
                    (p.created_at.strftime("%Y-%m-%d %H:%M"), p.push.token_requestor, p.push.get_state_display())
                    for p in pushes
                ),
            )
            or "—"
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Viewing only; revoking (an action) and minting need the model's own permissions.
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.has_perm("landing.change_landinglink"):
            actions.pop("revoke_links", None)
        return actions

    @admin.action(description="Revoke the selected links (they stop working at once)")
    def revoke_links(self, request: HttpRequest, queryset: QuerySet[LandingLink]) -> None:
        if not request.user.has_perm("landing.change_landinglink"):
            raise PermissionDenied
        revoked = sum(services.landing_link_revoke(link=link, actor=request.user) for link in queryset)
        self.message_user(request, f"{revoked} link(s) revoked.", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        mint = path("mint/<uuid:card_id>/", self.admin_site.admin_view(self.mint_view), name="landing_landinglink_mint")
        return [mint, *super().get_urls()]

    def mint_view(self, request: HttpRequest, card_id: str) -> HttpResponse:
        """Mint a link for one card. The link is shown here once: only its digest is kept."""
        if not request.user.has_perm("landing.add_landinglink"):
            raise PermissionDenied
        card = Card.objects.select_related("program").filter(public_id=card_id).first()
        if card is None:
            raise Http404("No such card")
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "card": card,
            "title": "Send a card by link",
        }
        if request.method == "POST":
            form = MintForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    minted = services.landing_link_mint(
                        card=card,
                        purpose=data["purpose"],
                        recipient_phone=data["recipient_phone"],
                        recipient_email=data["recipient_email"],
                        message=data["message"],
                        expires_in_days=data["expires_in_days"],
                        program_name=data["program_name"],
                        card_art=data["card_art"],
                        actor=request.user,
                    )
                except services.LandingError as error:
                    form.add_error(error.field if error.field in form.fields else None, str(error))
                else:
                    sent = self._deliver(request, minted) if data["deliver"] else None
                    context.update(
                        {"minted": minted, "qr_image": qr_svg_data_uri(minted.url), "sent": sent, "title": "Link ready"}
                    )
                    return TemplateResponse(request, "admin/landing/minted.html", context)
        else:
            form = MintForm(
                initial={
                    "purpose": PURPOSE_BY_PRODUCT.get(card.product_kind, LandingLink.Purpose.GIFT),
                    "expires_in_days": settings.LANDING_LINK_DEFAULT_DAYS,
                    "deliver": True,
                }
            )
        context["form"] = form
        return TemplateResponse(request, "admin/landing/mint.html", context)

    def _deliver(self, request: HttpRequest, minted: services.MintedLink) -> str | None:
        try:
            return services.landing_link_deliver(minted=minted)
        except services.LandingError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
