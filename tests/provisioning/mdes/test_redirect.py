"""G4: the redirect to the token requestor carries exactly what MDES signed, and the requestor can tell."""

from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests

from provisioning.mdes.callback import CallbackResult, callback_results
from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.redirect import append_query, redirect_parameters, token_requestor_redirect_url
from provisioning.mdes.types import PushResult, SignatureData
from sandbox.fixtures import DEMOPAY_TRID, SUNDAY_STORE_TRID
from tests.fixtures.mdes_samples import ELIGIBLE_PAN, ELIGIBLE_PAN_CREDIT
from tests.fixtures.sandbox_server import SandboxServer
from tests.provisioning.mdes.conftest import funding

CALLBACK = "https://portal.test/push/7/return?lang=en"
SIGNED = SignatureData(
    callback_url=CALLBACK,
    complete_issuer_app_activation=False,
    complete_website_activation=True,
    account_holder_data_supplied=False,
    locale="en_GB",
)


def _push(client: TokenConnectClient, trid: str = SUNDAY_STORE_TRID, cards: int = 2) -> PushResult:
    pans = [ELIGIBLE_PAN, ELIGIBLE_PAN_CREDIT][:cards]
    accounts = [funding(pan, f"CA-{n}") for n, pan in enumerate(pans)]
    return client.push_multiple_accounts(token_requestor_id=trid, funding_accounts=accounts, signature_data=SIGNED)


def _decide(sandbox: SandboxServer, page: requests.Response, decision: str) -> requests.Response:
    session = page.text.split('name="session" value="', 1)[1].split('"', 1)[0]
    action = page.text.split('<form method="post" action="', 1)[1].split('"', 1)[0]
    return requests.post(
        sandbox.origin + action, data={"session": session, "decision": decision}, allow_redirects=False, timeout=5
    )


def test_with_a_signature_the_jws_goes_alone_as_push_account_data(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer
) -> None:
    result = _push(token_connect_client)
    web = result.push_method("WEB")
    assert web is not None
    url = token_requestor_redirect_url(web.uri, result)
    assert url.startswith(web.uri + "?")
    # The token requestor guide: the single parameter pushAccountData; its payload carries everything else.
    assert parse_qsl(urlsplit(url).query) == [("pushAccountData", result.signature)]
    payload = jwt.decode(result.signature or "", sandbox.keys.jws_public_key.read_bytes(), algorithms=["RS256"])
    assert payload["pushAccountReceipts"] == list(result.receipts)
    assert payload["callbackURL"] == CALLBACK


def test_the_older_convention_puts_the_signed_values_next_to_the_jws(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer
) -> None:
    result = _push(token_connect_client)
    web = result.push_method("WEB")
    assert web is not None
    url = token_requestor_redirect_url(
        web.uri, result, signature_param_name="signature", signed_with_plain_parameters=True
    )
    query = parse_qsl(urlsplit(url).query)
    payload = jwt.decode(dict(query)["signature"], sandbox.keys.jws_public_key.read_bytes(), algorithms=["RS256"])
    expected = [("pushAccountReceipts", ",".join(payload["pushAccountReceipts"]))]
    for k, v in payload.items():
        if k != "pushAccountReceipts":
            expected.append((k, str(v).lower() if isinstance(v, bool) else v))
        if k == "callbackURL":
            expected.append(("callbackRequired", "true"))  # not signed by MDES, sent explicitly
    assert query == [*expected, ("signature", result.signature)]


@pytest.mark.parametrize("plain", [False, True])
def test_the_requestor_accepts_it_and_calls_back_with_one_result_per_receipt(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer, plain: bool
) -> None:
    result = _push(token_connect_client)
    web = result.push_method("WEB")
    assert web is not None
    url = token_requestor_redirect_url(web.uri, result, signed_with_plain_parameters=plain)
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert "Verified" in page.text

    answer = _decide(sandbox, page, "APPROVED")
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "&")  # appended to the callback's own query
    reported = callback_results(parse_qsl(urlsplit(location).query))
    assert set(reported) == set(result.receipts)
    references = {token["TokenUniqueReference"] for token in sandbox.tokens()}
    for item in reported.values():
        assert item.result is CallbackResult.APPROVED
        assert item.token_unique_reference in references


@pytest.mark.parametrize(
    ("name", "value"),
    [("callbackURL", "https://evil.test/x"), ("completeWebsiteActivation", "false"), ("locale", "en_US")],
)
def test_the_requestor_refuses_an_altered_value(
    token_connect_client: TokenConnectClient, name: str, value: str
) -> None:
    result = _push(token_connect_client)
    web = result.push_method("WEB")
    assert web is not None
    pairs = [(k, value if k == name else v) for k, v in redirect_parameters(result, signed_with_plain_parameters=True)]
    page = requests.get(append_query(web.uri, pairs), timeout=5)
    assert page.status_code == 400
    assert f"The value {name} in the address differs from the signed value." in page.text


def test_without_signature_every_value_is_sent_explicitly(
    token_connect_client: TokenConnectClient, sandbox: SandboxServer
) -> None:
    result = _push(token_connect_client, DEMOPAY_TRID, cards=1)
    assert result.signature is None
    android = result.push_method("ANDROID")
    assert android is not None
    url = token_requestor_redirect_url(android.uri, result, receipts_separator=";", signature_param_name="unused")
    assert parse_qsl(urlsplit(url).query) == [
        ("pushAccountReceipts", result.receipts[0]),
        ("callbackURL", CALLBACK),
        ("callbackRequired", "true"),
        ("completeIssuerAppActivation", "false"),
        ("completeWebsiteActivation", "true"),
        ("accountHolderDataSupplied", "false"),
        ("locale", "en_GB"),
    ]
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert _decide(sandbox, page, "CANCELLED").headers["Location"].endswith("=CANCELLED")


def test_append_query_keeps_existing_query_and_fragment() -> None:
    assert append_query("https://tr.test/push", [("a", "1 2")]) == "https://tr.test/push?a=1%202"
    assert append_query("https://tr.test/push?x=y#top", [("a", "b")]) == "https://tr.test/push?x=y&a=b#top"
    assert append_query("wallet://push", [("r", "MCC-1")]) == "wallet://push?r=MCC-1"


def test_a_separator_inside_a_receipt_is_refused(token_connect_client: TokenConnectClient) -> None:
    result = _push(token_connect_client)
    with pytest.raises(ValueError, match="separator"):
        redirect_parameters(result, receipts_separator="-", signed_with_plain_parameters=True)
