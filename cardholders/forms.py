"""The cardholder's own details, as they edit them (what wallets and Click to Pay may receive)."""

from typing import Any

import phonenumbers
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "address_city",
    "address_country_subdivision",
    "address_postal_code",
    "address_country",
)


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    phone_number = forms.CharField(
        label=_("Mobile number"),
        max_length=16,
        required=False,
        help_text=_("In international format, starting with + and the country code, e.g. +4915112345678."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    address_line1 = forms.CharField(label=_("Address"), max_length=64, required=False)
    address_line2 = forms.CharField(label=_("Address, second line"), max_length=64, required=False)
    address_city = forms.CharField(label=_("City"), max_length=32, required=False)
    address_country_subdivision = forms.CharField(label=_("State or region"), max_length=12, required=False)
    address_postal_code = forms.CharField(label=_("Postal code"), max_length=16, required=False)
    address_country = forms.CharField(
        label=_("Country"),
        max_length=3,
        required=False,
        help_text=_("Three-letter country code, e.g. USA, DEU, GBR."),
        validators=[RegexValidator(r"^[A-Za-z]{3}$", _("Enter a three-letter country code, e.g. USA."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name"):
            self.fields[name].widget.attrs["autocomplete"] = "given-name" if name == "first_name" else "family-name"

    def clean_phone_number(self) -> str:
        value = "".join(str(self.cleaned_data["phone_number"]).split())
        if not value:
            return ""
        try:
            parsed = phonenumbers.parse(value)
        except phonenumbers.NumberParseException:
            parsed = None
        if not value.startswith("+") or parsed is None or not phonenumbers.is_possible_number(parsed):
            raise forms.ValidationError(_("Enter your mobile number with + and the country code, e.g. +4915112345678."))
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def clean_address_country(self) -> str:
        return str(self.cleaned_data["address_country"]).upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if any(data.get(name) for name in ADDRESS_FIELDS):
            for name in ("address_line1", "address_country"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Needed for a billing address (or leave the whole address empty)."))
        return data
