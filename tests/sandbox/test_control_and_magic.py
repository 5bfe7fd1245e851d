"""The control API and the magic request ids that force outcomes (documented in sandbox/README.md)."""

import json
import time

import jwt
import pytest
import requests

from issuer_services.authentication import jwk_thumbprint
from sandbox.fixtures import SUNDAY_STORE_TRID
from sandbox.state import public_key_from_pem
from tests.fixtures.mdes_samples import funding_account, push_payload, signature_data
from tests.fixtures.sandbox_server import ELIGIBLE_PATH, SandboxServer

BODY = {"requestId": "c-1", "accountRanges": ["555555555"]}


def test_health_and_home_page(sandbox: SandboxServer) -> None:
    assert requests.get(f"{sandbox.origin}/healthz", timeout=5).json() == {"status": "ok"}
    home = requests.get(f"{sandbox.origin}/", timeout=5)
    assert "DemoPay" in home.text
    assert f"{sandbox.origin}/mdes" in home.text


@pytest.mark.parametrize(("status", "shape"), [(500, "errors"), (503, "errors"), (401, "Errors"), (429, "Errors")])
def test_fail_next_forces_one_failure(sandbox: SandboxServer, status: int, shape: str) -> None:
    sandbox.fail_next(status)
    failed = sandbox.post_json(ELIGIBLE_PATH, BODY)
    assert failed.status_code == status
    assert shape in failed.json()
    assert sandbox.post_json(ELIGIBLE_PATH, BODY).status_code == 200


def test_fail_next_can_last_several_calls_and_refuses_nonsense(sandbox: SandboxServer) -> None:
    sandbox.fail_next(502, count=2, shape="gateway")
    assert [sandbox.post_json(ELIGIBLE_PATH, BODY).status_code for _ in range(3)] == [502, 502, 200]
    refused = requests.post(f"{sandbox.origin}/__sandbox__/fail-next", json={"status": 200}, timeout=5)
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("request_id", "status", "key"),
    [
        ("SANDBOX-MDES-500-a", 500, "errors"),
        ("SANDBOX-MDES-503", 503, "errors"),
        ("SANDBOX-GATEWAY-403-x", 403, "Errors"),
    ],
)
def test_magic_request_ids(sandbox: SandboxServer, request_id: str, status: int, key: str) -> None:
    response = sandbox.post_json(ELIGIBLE_PATH, {**BODY, "requestId": request_id})
    assert response.status_code == status
    assert key in response.json()


def test_a_slow_request_id_delays_the_answer(sandbox: SandboxServer) -> None:
    started = time.monotonic()
    response = sandbox.post_json(ELIGIBLE_PATH, {**BODY, "requestId": "SANDBOX-SLOW-0.3-x"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_the_request_log_records_operations_without_bodies(sandbox: SandboxServer) -> None:
    sandbox.post_json(ELIGIBLE_PATH, BODY)
    sandbox.push(push_payload(SUNDAY_STORE_TRID, [funding_account()], requestId="p-1"))
    log = sandbox.request_log()
    assert [(e["operation"], e["status"], e["request_id"]) for e in log] == [
        ("getEligibleTokenRequestors", 200, "c-1"),
        ("pushMultipleAccounts", 200, "p-1"),
    ]
    assert "5555555555554444" not in json.dumps(log)


def test_the_jwks_verifies_the_redirect_signature(sandbox: SandboxServer) -> None:
    body = sandbox.push(push_payload(SUNDAY_STORE_TRID, [funding_account()], signatureData=signature_data())).json()
    jwks = requests.get(f"{sandbox.origin}/__sandbox__/jwks.json", timeout=5).json()["keys"]
    jwk = next(jwk for jwk in jwks if jwk["kid"] == sandbox.keys.jws_kid)
    key = jwt.PyJWK(jwk).key
    assert jwt.decode(body["signature"], key, algorithms=["RS256"])["pushAccountReceipts"]


def test_the_jwks_publishes_the_issuer_services_signing_key_under_its_thumbprint(sandbox: SandboxServer) -> None:
    jwks = requests.get(f"{sandbox.origin}/__sandbox__/jwks.json", timeout=5).json()["keys"]
    jwk = next(jwk for jwk in jwks if jwk["kid"] == sandbox.keys.issuer_services_kid)
    published = jwt.PyJWK(jwk).key
    assert jwk["kid"] == jwk_thumbprint(published)  # the portal's RFC 7638 thumbprint agrees with the sandbox's
    assert (
        published.public_numbers()
        == public_key_from_pem(sandbox.keys.issuer_services_verification_key.read_bytes()).public_numbers()
    )


def test_a_registered_requestor_is_listed(sandbox: SandboxServer) -> None:
    created = sandbox.control(
        "POST",
        "token-requestors",
        {"tokenRequestorId": "50100000088", "name": "New Wallet", "tokenRequestorType": "WALLET"},
    ).json()
    assert created["availablePushMethods"][0]["uri"].endswith("/tr/50100000088/push")
    body = sandbox.post_json(ELIGIBLE_PATH, BODY).json()
    assert "50100000088" in {tr["tokenRequestorId"] for tr in body["tokenRequestors"]}
    bad = requests.post(f"{sandbox.origin}/__sandbox__/token-requestors", json={"tokenRequestorId": "1"}, timeout=5)
    assert bad.status_code == 400


def test_a_registered_requestor_can_carry_odd_values_verbatim(sandbox: SandboxServer) -> None:
    """So the portal's own checks can be driven over the wire: nothing here is validated or rewritten."""
    methods = [{"type": "WEB", "uri": "https://a.example; script-src *"}, {"type": "ANDROID", "uri": 5}]
    sandbox.control(
        "POST",
        "token-requestors",
        {
            "tokenRequestorId": "50100000088",
            "name": "N" * 80,
            "imageAssetId": "../odd asset",
            "availablePushMethods": methods,
            "supportedPushMethods": ["WEB", "ANDROID"],
        },
    )
    listed = next(
        tr
        for tr in sandbox.post_json(ELIGIBLE_PATH, BODY).json()["tokenRequestors"]
        if tr["tokenRequestorId"] == "50100000088"
    )
    assert listed["name"] == "N" * 80
    assert listed["imageAssetId"] == "../odd asset"
    assert listed["availablePushMethods"] == methods
    pushed = sandbox.push(push_payload("50100000088", [funding_account()])).json()
    assert pushed["availablePushMethods"] == methods


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"supportedPushMethods": ["WEB", "VISION_OS"]}, "supportedPushMethods must be a list of WEB, ANDROID, IOS"),
        ({"supportedPushMethods": "WEB"}, "supportedPushMethods must be a list"),
        ({"receiptsSeparator": ""}, "receiptsSeparator must be a non-empty string"),
        ({"receiptsSeparator": 1}, "receiptsSeparator must be a non-empty string"),
        ({"signatureParamName": ""}, "signatureParamName must be a non-empty string"),
        ({"enabledAccountRanges": ["5105"]}, "enabledAccountRanges must be a non-empty list"),
        ({"enabledAccountRanges": []}, "enabledAccountRanges must be a non-empty list"),
        ({"supportedAccountHolderData": ["SHOE_SIZE"]}, "supportedAccountHolderData must be a list of NAME"),
        ({"logoColour": 'red"/><script>'}, "logoColour must be #rrggbb"),
        ({"availablePushMethods": [{"type": "WEB"}, "https://x.example"]}, "availablePushMethods must be a list of"),
        ({"imageAssetId": ""}, "imageAssetId must be a non-empty string"),
    ],
)
def test_a_requestor_the_sandbox_could_not_serve_is_refused_at_registration(
    sandbox: SandboxServer, change: dict, message: str
) -> None:
    data = {"tokenRequestorId": "50100000055", "name": "Broken Wallet", **change}
    refused = requests.post(f"{sandbox.origin}/__sandbox__/token-requestors", json=data, timeout=5)
    assert refused.status_code == 400
    assert message in refused.json()["error"]
    # Nothing was registered, and the operations that would have tripped over it still work.
    listed = sandbox.post_json(ELIGIBLE_PATH, BODY)
    assert listed.status_code == 200
    assert "50100000055" not in {tr["tokenRequestorId"] for tr in listed.json()["tokenRequestors"]}
