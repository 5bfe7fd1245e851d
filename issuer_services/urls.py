"""MDES's issuer services under /mdes-issuer/: register `<PORTAL_BASE_URL>/mdes-issuer/1/0/` with Mastercard as the
issuer's base URL (W2's `/issuerServices/1/0/`); each operation is its W2 path below it."""

from django.urls import path, re_path

from issuer_services import views

app_name = "issuer_services"

urlpatterns = [
    path("1/0/<str:operation>", views.issuer_service, name="operation"),
    # Anything else under the prefix answers in MDES's error shape too (operation "unknown").
    re_path(r"^(?P<operation>.*)$", views.issuer_service, name="unknown"),
]
