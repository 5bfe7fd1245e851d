"""Issue 13's Token Connect corrections (the token requestor guide): callback format, token unique reference,
supportedPushMethods, the cardholder's own locale, and the redirect settings' migration."""

import dataclasses
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from cardholders.models import Card
from provisioning.locales import network_locale
from provisioning.mdes.callback import (
    RECEIPT_MAX_LENGTH,
    CallbackResult,
    CallbackResultsError,
    ReportedResult,
    callback_results,
    reported_result,
)
from provisioning.mdes.types import PushMethod
from provisioning.models import PushReceipt, PushRequest, TokenRequestor
from provisioning.requestor_checks import token_requestor_checked
from tests.fixtures.sandbox_server import SandboxServer
from tests.provisioning.test_requestor_checks import REQUESTOR
from tests.wallet import wallet_decides

TUR = "DWSPMC000000000132d72d4fcb2f4136a0532d3093ff1a45"
GUIDE_RESULTS = [
    "APPROVED",
    "REQUIRE_ADDITIONAL_AUTHENTICATION",
    "DECLINED",
    "CANCELLED",
    "ERROR",
    "DUPLICATE_REQUEST",
    "AUTHENTICATED",
    "DELETED",
]


@pytest.mark.parametrize("code", GUIDE_RESULTS)
def test_every_result_of_the_guide_is_read_with_its_token_unique_reference(code: str) -> None:
    assert reported_result(f"{code}|{TUR}") == ReportedResult(CallbackResult(code), TUR)
    assert reported_result(code) == ReportedResult(CallbackResult(code), None)


@pytest.mark.parametrize("value", ["APPROVE", "approved", "<script>", "", "|" + TUR, "OK|x"])
def test_anything_else_reads_as_unknown(value: str) -> None:
    assert reported_result(value).result is CallbackResult.UNKNOWN


@pytest.mark.parametrize("reference", ["x" * 65, "DWS PMC", "DWS<b>", "ü", "a|b", "../x"])
def test_a_malformed_token_unique_reference_is_dropped_and_the_result_stands(reference: str) -> None:
    assert reported_result(f"APPROVED|{reference}") == ReportedResult(CallbackResult.APPROVED, None)


def test_the_callback_query_is_read_as_the_guide_writes_it() -> None:
    # `[`, `]` and `|` arrive URL-encoded; parse_qsl (like Django's QueryDict) decodes them.
    query = f"lang=en&results%5BMCC-1%5D=APPROVED%7C{TUR}&results%5BMCC-2%5D=DECLINED&results%5BMCC-1%5D=ERROR"
    results = callback_results(parse_qsl(query))
    assert results == {
        "MCC-1": ReportedResult(CallbackResult.APPROVED, TUR),  # the first value of a receipt given twice
        "MCC-2": ReportedResult(CallbackResult.DECLINED, None),
    }
    # No requestor sends these: the whole callback is refused rather than read in part.
    for refused in ("results[" + "M" * (RECEIPT_MAX_LENGTH + 1) + "]", "results[]"):
        with pytest.raises(CallbackResultsError):
            callback_results([(refused, "APPROVED")])


@pytest.mark.parametrize(
    ("accept_language", "preferred", "expected"),
    [
        ("en-GB,en;q=0.9", "en_US", "en_GB"),  # the cardholder's own region, not the default's
        ("de-AT,de;q=0.9,en-GB;q=0.8", "en_US", "en_GB"),  # their language wins, in the region the browser names
        ("en-GB", "de_DE", "de_DE"),  # a German cardholder stays German
        ("fr", "en_US", "en_US"),
        ("en-US;q=0.5,en-IE;q=0.9", "en_US", "en_IE"),
        ("en-GB;q=0", "en_US", "en_US"),
        ("", "en_US", "en_US"),
        ("pt-br", None, "pt_BR"),
        ("da", None, "en_US"),
        ("*;q=0.1, x-y-z, en-GB;q=garbage", None, "en_US"),
    ],
)
def test_the_network_gets_the_cardholders_own_locale(
    accept_language: str, preferred: str | None, expected: str
) -> None:
    assert network_locale(accept_language=accept_language, preferred=preferred, fallback="en_US") == expected


def test_a_requestor_listing_push_methods_only_in_supported_push_methods_is_offered_there() -> None:
    item = dataclasses.replace(REQUESTOR, supported_push_methods=("WEB", "IOS", "bad type"), available_push_methods=())
    checked = token_requestor_checked(item)
    assert checked.values["push_methods"] == [{"type": "WEB"}, {"type": "IOS"}]
    assert checked.values["supports_token_connect"] is True
    assert any("bad type" in warning for warning in checked.warnings)


def test_a_refused_uri_is_not_brought_back_by_supported_push_methods() -> None:
    item = dataclasses.replace(
        REQUESTOR,
        supported_push_methods=("WEB", "ANDROID"),
        available_push_methods=(PushMethod("WEB", "javascript:alert(1)"), PushMethod("ANDROID", "demopay://push/card")),
    )
    assert token_requestor_checked(item).values["push_methods"] == [{"type": "ANDROID", "uri": "demopay://push/card"}]


@pytest.mark.django_db
def test_the_callback_stores_the_token_unique_reference_the_wallet_sent(
    portal: Client, card: Card, sandbox: SandboxServer
) -> None:
    requestor = TokenRequestor.objects.get(trid="50100000011")
    response = portal.post(
        reverse("provisioning:push_start"),
        {"card": [card.public_id], "token_requestor": requestor.pk, "idempotency_key": "tur"},
        headers={"Accept-Language": "en-GB,en;q=0.8"},
    )
    assert response.status_code == 302
    query = dict(parse_qsl(urlsplit(response["Location"]).query))
    assert (query["locale"], query["callbackRequired"]) == ("en_GB", "true")
    assert PushRequest.objects.get().locale == "en_GB"
    callback = wallet_decides(response["Location"], "APPROVED")
    (token,) = sandbox.tokens()
    assert quote(f"APPROVED|{token['TokenUniqueReference']}", safe="") in callback
    parts = urlsplit(callback)
    portal.get(parts.path, dict(parse_qsl(parts.query)))
    receipt = PushReceipt.objects.get()
    assert (receipt.result, receipt.token_unique_reference) == ("APPROVED", token["TokenUniqueReference"])


@pytest.mark.django_db(transaction=True)
def test_requestors_on_the_old_default_follow_the_guide_and_changed_ones_keep_working() -> None:
    before = [("provisioning", "0005_network_configuration_from_issuer_portal")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps.get_model("provisioning", "TokenRequestor")
    common = {"name": "x", "consumer_facing_name": "x", "requestor_type": "WALLET"}
    old.objects.create(trid="50100000001", signature_param_name="signature", **common)
    old.objects.create(trid="50100000002", signature_param_name="credential_push_data", **common)

    MigrationExecutor(connection).migrate(latest)

    rows = TokenRequestor.objects.order_by("trid").values_list(
        "signature_param_name", "signed_redirect_with_plain_parameters"
    )
    assert list(rows) == [("pushAccountData", False), ("credential_push_data", True)]
