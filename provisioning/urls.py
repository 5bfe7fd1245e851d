from django.urls import path, re_path

from provisioning import card_views, views

app_name = "provisioning"

urlpatterns = [
    re_path(
        r"^logos/(?P<asset_id>[A-Za-z0-9_-]{1,64})\.(?P<image_format>svg|png)$",
        views.token_requestor_logo,
        name="logo",
    ),
    path("wallets/", views.choose_token_requestor, name="choose"),
    path("click-to-pay/", views.click_to_pay_review, name="click_to_pay"),
    path("push/", views.push_start, name="push_start"),
    path("push/<uuid:public_id>/return/", views.push_return, name="push_return"),
    path("push/<uuid:public_id>/", views.push_detail, name="push_detail"),
    path("continue-on-phone/", views.continue_on_phone, name="continue_on_phone"),
    path("cards/<uuid:public_id>/check/", card_views.card_tokens_check, name="card_tokens_check"),
    path("places/<uuid:public_id>/pause/", card_views.token_change, {"change": "pause"}, name="token_pause"),
    path("places/<uuid:public_id>/resume/", card_views.token_change, {"change": "resume"}, name="token_resume"),
    path("places/<uuid:public_id>/remove/", card_views.token_change, {"change": "remove"}, name="token_remove"),
    re_path(r"^continue/(?P<token>[A-Za-z0-9_-]{20,64})/$", views.handoff_redeem, name="handoff"),
]
