"""The API, version 1, under /api/v1/ (the `api` namespace). Anything else under /api/ is a 404 problem."""

from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from api.views import card_tokens, cardholder, logos, program, wallet_requests
from api.views.base import NotFoundApi

app_name = "api"

v1: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The cardholder: the issuer's app (token) or the browser (session).
    path("auth/tokens/", cardholder.TokenCreateApi.as_view(), name="token_create"),
    path("auth/tokens/current/", cardholder.TokenCurrentApi.as_view(), name="token_current"),
    path("me/cards/", cardholder.CardListApi.as_view(), name="my_cards"),
    path("me/cards/<uuid:card_id>/tokens/", card_tokens.CardTokensApi.as_view(), name="my_card_tokens"),
    path(
        "me/cards/<uuid:card_id>/tokens/check/", card_tokens.CardTokensCheckApi.as_view(), name="my_card_tokens_check"
    ),
    path("me/tokens/<uuid:token_id>/suspend/", card_tokens.TokenSuspendApi.as_view(), name="my_card_token_suspend"),
    path("me/tokens/<uuid:token_id>/resume/", card_tokens.TokenResumeApi.as_view(), name="my_card_token_resume"),
    path("me/tokens/<uuid:token_id>/remove/", card_tokens.TokenRemoveApi.as_view(), name="my_card_token_remove"),
    path("me/wallet-requests/", wallet_requests.WalletRequestsApi.as_view(), name="my_wallet_requests"),
    path(
        "me/wallet-requests/<uuid:request_id>/approve/",
        wallet_requests.WalletRequestApproveApi.as_view(),
        name="my_wallet_request_approve",
    ),
    path(
        "me/wallet-requests/<uuid:request_id>/decline/",
        wallet_requests.WalletRequestDeclineApi.as_view(),
        name="my_wallet_request_decline",
    ),
    path("me/token-requestors/", cardholder.EligibleTokenRequestorsApi.as_view(), name="my_token_requestors"),
    path("me/click-to-pay/review/", cardholder.ClickToPayReviewApi.as_view(), name="my_click_to_pay_review"),
    path("me/pushes/", cardholder.PushesApi.as_view(), name="my_pushes"),
    path("me/pushes/<uuid:push_id>/", cardholder.PushDetailApi.as_view(), name="my_push"),
    path("me/pushes/<uuid:push_id>/result/", cardholder.PushResultApi.as_view(), name="my_push_result"),
    # A program manager (API key).
    path("program/cards/", program.ProgramCardListApi.as_view(), name="program_cards"),
    path("program/cards/<uuid:card_id>/pushes/", program.ProgramCardPushListApi.as_view(), name="program_card_pushes"),
    path("program/landing-links/", program.LandingLinksApi.as_view(), name="program_landing_links"),
    path("program/landing-links/<uuid:link_id>/", program.LandingLinkDetailApi.as_view(), name="program_landing_link"),
    path(
        "program/landing-links/<uuid:link_id>/revoke/",
        program.LandingLinkRevokeApi.as_view(),
        name="program_landing_link_revoke",
    ),
    # Public: token requestor logos.
    re_path(
        r"^logos/(?P<asset_id>[A-Za-z0-9_-]{1,64})\.(?P<image_format>svg|png)$", logos.LogoApi.as_view(), name="logo"
    ),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include(v1)),
    re_path(r"^", NotFoundApi.as_view(), name="not_found"),
]
