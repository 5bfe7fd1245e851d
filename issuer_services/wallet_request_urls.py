"""The Wallet requests page, at ISSUER_SERVICES_APPROVAL_PATH (the address given to MDES as
CARDHOLDER_TO_VISIT_WEBSITE)."""

from django.urls import URLPattern, path

from issuer_services import wallet_request_views

app_name = "wallet_requests"

urlpatterns: list[URLPattern] = [
    path("", wallet_request_views.wallet_request_list, name="list"),
    *(
        path(f"<uuid:public_id>/{answer}/", wallet_request_views.wallet_request_answer, {"answer": answer}, name=answer)
        for answer in wallet_request_views.ANSWERS
    ),
]
