"""The simulated token requestors: verify the redirect against the JWS, redeem receipts once, call back."""

import base64
import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.crypto import jws_sign
from sandbox.fixtures import DEMOPAY_TRID, SUNDAY_STORE_TRID
from tests.fixtures.mdes_samples import ELIGIBLE_PAN_CREDIT, funding_account, push_payload, signature_data
from tests.fixtures.sandbox_server import SandboxServer

CALLBACK = "https://portal.test/push/return?session=abc"
RESULT_CODES = [
    "APPROVED",
    "DECLINED",
    "CANCELLED",
    "ERROR",
    "DUPLICATE_REQUEST",
    "REQUIRE_ADDITIONAL_AUTHENTICATION",
    "AUTHENTICATED",
    "DELETED",
]
# The guide: these results carry "|<tokenUniqueReference>".
TOKEN_RESULTS = {"APPROVED", "REQUIRE_ADDITIONAL_AUTHENTICATION", "AUTHENTICATED", "DELETED"}


class _Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _push(sandbox: SandboxServer, trid: str, accounts: list[dict[str, Any]], values: dict[str, Any] | None) -> dict:
    payload = push_payload(trid, accounts, **({"signatureData": values} if values is not None else {}))
    response = sandbox.push(payload)
    assert response.status_code == 200, response.text
    return response.json()


def _redirect_url(body: dict, values: dict[str, Any], *, method: str = "WEB", **params: str) -> str:
    receipts = [a["pushAccountReceipt"] for a in body["pushAccountReceipts"] if "pushAccountReceipt" in a]
    pairs = [("pushAccountReceipts", ",".join(receipts))]
    pairs += [(k, str(v).lower() if isinstance(v, bool) else v) for k, v in values.items()]
    if "signature" in body:
        # The older convention: plain parameters next to the JWS (which the sandbox still checks value for value).
        pairs.append(("pushAccountData", body["signature"]))
    uri = next(m["uri"] for m in body["availablePushMethods"] if m["type"] == method)
    query = dict(pairs) | params
    return f"{uri}?{urlencode(query, quote_via=quote)}"


def _decide(sandbox: SandboxServer, page: requests.Response, decision: str, **overrides: str) -> requests.Response:
    html = _Page(page.text)
    (form,) = html.find("form", method="post")
    (session,) = html.find("input", name="session")
    data = {"session": session["value"], "decision": decision, **overrides}
    return requests.post(sandbox.origin + str(form["action"]), data=data, allow_redirects=False, timeout=5)


def _values(location: str) -> dict[str, str]:
    return {k[len("results[") : -1]: v for k, v in parse_qsl(urlsplit(location).query) if k.startswith("results[")}


def _results(location: str) -> dict[str, str]:
    """The result codes, without the token unique references."""
    return {receipt: value.partition("|")[0] for receipt, value in _values(location).items()}


def test_a_signed_redirect_is_shown_then_returns_with_one_result_per_receipt(sandbox: SandboxServer) -> None:
    values = signature_data(callbackURL=CALLBACK)
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account(), funding_account(ELIGIBLE_PAN_CREDIT)], values)
    receipts = [a["pushAccountReceipt"] for a in body["pushAccountReceipts"]]

    page = requests.get(_redirect_url(body, values), timeout=5)
    assert page.status_code == 200
    assert "Verified" in page.text
    assert "Card ending 4444" in page.text
    assert "Card ending 5100" in page.text
    assert receipts[0] not in page.text  # only hints of the bearer receipts are shown
    assert "<script" not in page.text
    assert "style=" not in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "form-action 'self' https://portal.test" in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"

    answer = _decide(sandbox, page, "APPROVED", **{"result-1": "DUPLICATE_REQUEST"})
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "&results%5B")
    assert dict(parse_qsl(urlsplit(location).query))["session"] == "abc"
    assert _results(location) == {receipts[0]: "APPROVED", receipts[1]: "DUPLICATE_REQUEST"}
    assert {r["receipt"]: r["result"] for r in sandbox.receipts()} == _results(location)


@pytest.mark.parametrize("code", RESULT_CODES)
def test_each_decision_becomes_the_result_code(sandbox: SandboxServer, code: str) -> None:
    values = signature_data(callbackURL="https://portal.test/push/return")
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    answer = _decide(sandbox, requests.get(_redirect_url(body, values), timeout=5), code)
    assert answer.headers["Location"].startswith("https://portal.test/push/return?results%5B")
    assert set(_results(answer.headers["Location"]).values()) == {code}
    (value,) = _values(answer.headers["Location"]).values()
    reference = value.partition("|")[2]
    if code in TOKEN_RESULTS:
        # The guide: the token unique reference follows a "|", and it names the token the requestor created.
        assert re.fullmatch(r"[A-Z0-9]{48}", reference)
        (token,) = sandbox.tokens()
        assert token["TokenUniqueReference"] == reference
    elif code == "DUPLICATE_REQUEST":
        # The card was already there: the network's records hold its live token, the callback names none.
        assert "|" not in value
        assert [token["CurrentStatusCode"] for token in sandbox.tokens()] == ["A"]
    else:
        assert "|" not in value
        assert sandbox.tokens() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"callbackURL": "https://evil.test/steal"}, "callbackURL in the address differs"),
        ({"locale": "fr_FR"}, "locale in the address differs"),
        ({"completeWebsiteActivation": "true"}, "completeWebsiteActivation in the address differs"),
        ({"pushAccountReceipts": "MCC-00000000-0000-0000-0000-000000000000"}, "receipts in the address differ"),
        ({"tokenRequestorSessionId": "added-later"}, "not covered by the signature"),
        ({"pushAccountData": "eyJhbGciOiJSUzI1NiJ9.e30.AAAA"}, "signature is not valid"),
    ],
)
def test_an_altered_redirect_is_refused(sandbox: SandboxServer, change: dict[str, str], message: str) -> None:
    values = signature_data()
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    page = requests.get(_redirect_url(body, values, **change), timeout=5)
    assert page.status_code == 400
    assert 'role="alert"' in page.text
    assert message in page.text
    assert 'id="return-link"' not in page.text  # nothing of an altered request is trusted
    assert not _Page(page.text).find("form")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _payload_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


def _forged_redirect(body: dict, values: dict[str, Any], token: str) -> str:
    """The redirect for `token`, every listed value equal to what it claims was signed: only the RSA check is left."""
    forged_values = {name: _payload_of(token)[name] for name in values}
    return _redirect_url({**body, "signature": token}, forged_values)


def test_a_swapped_payload_under_the_genuine_header_and_signature_is_refused(sandbox: SandboxServer) -> None:
    values = signature_data()
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    header, _, signature = body["signature"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"] == sandbox.keys.jws_kid
    payload = {**_payload_of(body["signature"]), "callbackURL": "https://evil.test/steal"}
    token = f"{header}.{_b64url(json.dumps(payload, separators=(',', ':')).encode())}.{signature}"

    page = requests.get(_forged_redirect(body, values, token), timeout=5)
    assert page.status_code == 400
    assert "signature does not verify" in page.text
    assert 'id="return-link"' not in page.text  # no way back to the forged callbackURL
    assert not _Page(page.text).find("form")


def test_a_signature_by_another_key_under_the_same_kid_is_refused(sandbox: SandboxServer) -> None:
    values = signature_data()
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jws_sign(_payload_of(body["signature"]), private_key=other_key, kid=sandbox.keys.jws_kid)

    page = requests.get(_forged_redirect(body, values, token), timeout=5)
    assert page.status_code == 400
    assert "signature does not verify" in page.text
    assert not _Page(page.text).find("form")


def test_a_signed_value_left_out_or_given_twice_is_refused(sandbox: SandboxServer) -> None:
    values = signature_data()
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    url = _redirect_url(body, values)
    without_locale = re.sub(r"&locale=[^&]*", "", url)
    assert "locale is missing from the address" in requests.get(without_locale, timeout=5).text
    twice = requests.get(url + "&callbackURL=https%3A%2F%2Fevil.test", timeout=5)
    assert twice.status_code == 400
    assert "callbackURL appears more than once" in twice.text


def test_a_requestor_that_checks_signatures_refuses_a_redirect_without_one(sandbox: SandboxServer) -> None:
    values = signature_data()
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    url = re.sub(r"&pushAccountData=[^&]*", "", _redirect_url(body, values))
    page = requests.get(url, timeout=5)
    assert page.status_code == 400
    assert "needs the signature" in page.text


def test_a_receipt_is_redeemed_once(sandbox: SandboxServer) -> None:
    values = signature_data(callbackURL="https://portal.test/return")
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    url = _redirect_url(body, values)
    first = requests.get(url, timeout=5)
    second_tab = requests.get(url, timeout=5)
    assert _decide(sandbox, first, "APPROVED").status_code == 303

    again = requests.get(url, timeout=5)
    assert again.status_code == 409
    assert "is already used" in again.text
    (link,) = _Page(again.text).find("a", id="return-link")
    assert set(_results(str(link["href"])).values()) == {"ERROR"}
    late = _decide(sandbox, second_tab, "APPROVED")
    assert late.status_code == 409
    assert "already used" in late.text


def test_the_same_form_cannot_be_submitted_twice(sandbox: SandboxServer) -> None:
    values = signature_data()
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    page = requests.get(_redirect_url(body, values), timeout=5)
    assert _decide(sandbox, page, "CANCELLED").status_code == 303
    assert _decide(sandbox, page, "APPROVED").status_code == 409


def test_an_expired_receipt_is_refused(sandbox: SandboxServer) -> None:
    values = signature_data()
    body = _push(sandbox, SUNDAY_STORE_TRID, [funding_account()], values)
    sandbox.shift_clock(15 * 60 + 1)
    page = requests.get(_redirect_url(body, values), timeout=5)
    assert page.status_code == 409
    assert "is expired" in page.text


def test_unknown_receipts_and_receipts_of_another_requestor_are_refused(sandbox: SandboxServer) -> None:
    body = _push(sandbox, DEMOPAY_TRID, [funding_account()], None)
    receipt = body["pushAccountReceipts"][0]["pushAccountReceipt"]
    other = requests.get(f"{sandbox.origin}/tr/{SUNDAY_STORE_TRID}/push?pushAccountReceipts={receipt}", timeout=5)
    assert other.status_code == 400  # Sunday Store needs a signature
    unknown = requests.get(f"{sandbox.origin}/tr/{DEMOPAY_TRID}/push?pushAccountReceipts=MCC-UNKNOWN", timeout=5)
    assert unknown.status_code == 409
    assert "is unknown" in unknown.text


@pytest.mark.parametrize("method", ["WEB", "ANDROID", "IOS"])
def test_a_requestor_without_signatures_reads_plain_parameters_on_every_platform(
    sandbox: SandboxServer, method: str
) -> None:
    values = signature_data(callbackURL="https://portal.test/return")
    body = _push(sandbox, DEMOPAY_TRID, [funding_account()], values)
    assert "signature" not in body
    page = requests.get(_redirect_url(body, values, method=method), timeout=5)
    assert page.status_code == 200
    assert "None (this requestor does not check signatures)" in page.text
    assert _decide(sandbox, page, "APPROVED").headers["Location"].startswith("https://portal.test/return?results")


def test_a_single_card_requestor_refuses_several_receipts(sandbox: SandboxServer) -> None:
    url = f"{sandbox.origin}/tr/{DEMOPAY_TRID}/push?pushAccountReceipts=MCC-A,MCC-B"
    page = requests.get(url, timeout=5)
    assert page.status_code == 400
    assert "at most 1 receipt" in page.text


def test_separator_and_signature_parameter_are_per_requestor(sandbox: SandboxServer) -> None:
    sandbox.control(
        "POST",
        "token-requestors",
        {
            "tokenRequestorId": "50100000077",
            "name": "Semicolon Pay",
            "supportedPushMethods": ["WEB"],
            "supportsMultiplePushedCards": True,
            "tokenRequestorSignatureSupport": True,
            "receiptsSeparator": ";",
            "signatureParamName": "credential_push_data",
        },
    )
    values = signature_data()
    body = _push(sandbox, "50100000077", [funding_account(), funding_account()], values)
    receipts = [a["pushAccountReceipt"] for a in body["pushAccountReceipts"]]
    query = {
        "pushAccountReceipts": ";".join(receipts),
        **_redirect_query(values),
        "credential_push_data": body["signature"],
    }
    uri = body["availablePushMethods"][0]["uri"]
    assert requests.get(f"{uri}?{urlencode(query)}", timeout=5).status_code == 200
    default_names = {**query, "pushAccountReceipts": ",".join(receipts)}
    assert requests.get(f"{uri}?{urlencode(default_names)}", timeout=5).status_code == 400


def _redirect_query(values: dict[str, Any]) -> dict[str, str]:
    return {k: str(v).lower() if isinstance(v, bool) else v for k, v in values.items()}


def test_without_a_callback_the_journey_ends_on_the_requestors_page(sandbox: SandboxServer) -> None:
    body = _push(sandbox, DEMOPAY_TRID, [funding_account()], None)
    page = requests.get(_redirect_url(body, {}), timeout=5)
    done = _decide(sandbox, page, "DECLINED")
    assert done.status_code == 200
    assert "DECLINED" in done.text


def test_a_callback_with_a_dangerous_scheme_is_refused(sandbox: SandboxServer) -> None:
    body = _push(sandbox, DEMOPAY_TRID, [funding_account()], None)
    page = requests.get(_redirect_url(body, {"callbackURL": "javascript:alert(1)"}), timeout=5)
    assert page.status_code == 400


def test_an_app_scheme_callback_is_allowed_as_a_form_target(sandbox: SandboxServer) -> None:
    values = {"callbackURL": "demobank://push/return"}
    body = _push(sandbox, DEMOPAY_TRID, [funding_account()], values)
    page = requests.get(_redirect_url(body, values), timeout=5)
    assert "demobank:" in page.headers["Content-Security-Policy"]
    assert _decide(sandbox, page, "APPROVED").headers["Location"].startswith("demobank://push/return?results%5B")


def test_logos_are_served_same_origin(sandbox: SandboxServer) -> None:
    svg = requests.get(f"{sandbox.origin}/tr/{DEMOPAY_TRID}/logo.svg", timeout=5)
    png = requests.get(f"{sandbox.origin}/tr/{DEMOPAY_TRID}/logo.png", timeout=5)
    assert (svg.headers["Content-Type"], png.headers["Content-Type"]) == ("image/svg+xml; charset=utf-8", "image/png")
    assert requests.get(f"{sandbox.origin}/tr/{DEMOPAY_TRID}/logo.gif", timeout=5).status_code == 404


def test_an_unknown_requestor_or_platform(sandbox: SandboxServer) -> None:
    assert requests.get(f"{sandbox.origin}/tr/50199999999/push", timeout=5).status_code == 404
    assert requests.get(f"{sandbox.origin}/tr/{DEMOPAY_TRID}/windows", timeout=5).status_code == 404
