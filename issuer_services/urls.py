"""MDES's issuer services under /mdes-issuer/: register `<PORTAL_BASE_URL>/mdes-issuer/1/0/` with Mastercard as the
issuer's base URL (W2's `/issuerServices/1/0/`); each operation is its W2 path below it."""

from django.urls import URLPattern, path, re_path

from issuer_services import views
from issuer_services.services import OPERATIONS

app_name = "issuer_services"

urlpatterns: list[URLPattern] = [
    *(path(f"1/0/{name}", views.issuer_service, {"operation": name}, name=name) for name in OPERATIONS),
    # Anything else under the prefix answers in MDES's error shape too (operation "unknown").
    re_path(r"^(?P<operation>.*)$", views.issuer_service, name="unknown"),
]
