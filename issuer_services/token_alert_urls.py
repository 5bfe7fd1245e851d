"""The "Was this you?" link: /was-this-you/<token>/ (the token is a bearer value; core.logging masks it)."""

from django.urls import URLPattern, re_path

from issuer_services import token_alert_views

app_name = "token_alerts"

urlpatterns: list[URLPattern] = [
    re_path(r"^(?P<link_token>[A-Za-z0-9_-]{20,64})/$", token_alert_views.token_alert_link, name="link"),
]
