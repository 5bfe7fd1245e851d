"""The gateway verifies OAuth 1.0a exactly as Mastercard's signer signs, and answers in the gateway's shape."""

import json
import string

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from oauth1.authenticationutils import load_signing_key  # type: ignore[import-untyped]
from oauth1.oauth import OAuth, SignatureMethod  # type: ignore[import-untyped]

from sandbox import gateway
from sandbox.fixtures import FIXTURE_TOKEN_REQUESTORS
from tests.fixtures.sandbox_server import ASSET_PATH, ELIGIBLE_PATH, SandboxServer

ASSET = ASSET_PATH + FIXTURE_TOKEN_REQUESTORS[0].image_asset_id
BODY = json.dumps({"requestId": "gw-1", "accountRanges": ["555555555"]})

_text = st.text(alphabet=string.ascii_letters + string.digits + " -_.~+/=%!*'()&", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    path=st.text(alphabet=string.ascii_letters + "/-", min_size=1, max_size=20),
    query=st.lists(st.tuples(st.text(string.ascii_letters, min_size=1, max_size=5), _text), max_size=4),
    encode_query=st.booleans(),
    oauth=st.dictionaries(st.sampled_from(["oauth_nonce", "oauth_body_hash", "oauth_consumer_key"]), _text),
    port=st.sampled_from(["", ":80", ":443", ":8001"]),
    scheme=st.sampled_from(["http", "https"]),
)
def test_base_string_is_the_official_signers(path, query, encode_query, oauth, port, scheme) -> None:
    from urllib.parse import quote

    joiner = (lambda k, v: f"{k}={quote(v, safe='')}") if encode_query else (lambda k, v: f"{k}={v}")
    query_string = "&".join(joiner(k, v) for k, v in query if "&" not in v and "=" not in v and "%" not in v)
    url = f"{scheme}://Api.Example.TEST{port}/{path.lstrip('/')}" + (f"?{query_string}" if query_string else "")
    assert gateway.signature_base_string("POST", url, oauth) == OAuth.get_base_string(url, "POST", oauth)


def _gateway_error(response: requests.Response) -> dict:
    errors = response.json()["Errors"]["Error"]
    assert len(errors) == 1
    assert errors[0]["Source"] == "Gateway"
    assert set(errors[0]) == {"Source", "ReasonCode", "Description", "Recoverable", "Details"}
    return errors[0]


def test_a_request_signed_by_the_official_signer_passes(sandbox: SandboxServer) -> None:
    assert sandbox.call("GET", ASSET).status_code == 200
    assert sandbox.call("POST", ELIGIBLE_PATH, BODY).status_code == 200


def test_the_mtf_alias_answers_too(sandbox: SandboxServer) -> None:
    assert sandbox.call("POST", ELIGIBLE_PATH.replace("/mdes/", "/mdes/mtf/"), BODY).status_code == 200


def test_query_parameters_enter_the_base_string(sandbox: SandboxServer) -> None:
    assert sandbox.call("GET", ASSET + "?format=png&label=a%20b").status_code == 200


def test_rsa_pss_signatures_are_accepted(sandbox: SandboxServer) -> None:
    url = sandbox.origin + ELIGIBLE_PATH
    key = load_signing_key(str(sandbox.keys.client_signing_p12), sandbox.keys.client_signing_p12_password)
    header = OAuth.get_authorization_header(
        url, "POST", BODY, sandbox.keys.consumer_key, key, signature_method=SignatureMethod.RSA_PSS_SHA256
    )
    response = requests.post(url, data=BODY, headers={"Authorization": header}, timeout=5)
    assert response.status_code == 200


def test_no_authorization_header(sandbox: SandboxServer) -> None:
    response = requests.post(sandbox.origin + ELIGIBLE_PATH, data=BODY, timeout=5)
    assert response.status_code == 401
    assert _gateway_error(response)["ReasonCode"] == "MISSING_AUTHORIZATION"


def test_a_malformed_header(sandbox: SandboxServer) -> None:
    response = requests.post(
        sandbox.origin + ELIGIBLE_PATH, data=BODY, headers={"Authorization": 'OAuth oauth_nonce="x"'}, timeout=5
    )
    assert response.status_code == 400
    assert _gateway_error(response)["ReasonCode"] == "INVALID_OAUTH_HEADER"


def test_an_unknown_consumer_key(sandbox: SandboxServer) -> None:
    response = sandbox.call("POST", ELIGIBLE_PATH, BODY, consumer_key="someone-else!0000")
    assert response.status_code == 401
    assert _gateway_error(response)["ReasonCode"] == "INVALID_CLIENT_ID"


def test_a_body_changed_after_signing(sandbox: SandboxServer) -> None:
    url = sandbox.origin + ELIGIBLE_PATH
    key = load_signing_key(str(sandbox.keys.client_signing_p12), sandbox.keys.client_signing_p12_password)
    header = OAuth.get_authorization_header(url, "POST", BODY, sandbox.keys.consumer_key, key)
    tampered = BODY.replace("555555555", "510510510")
    response = requests.post(url, data=tampered, headers={"Authorization": header}, timeout=5)
    assert response.status_code == 400
    error = _gateway_error(response)
    assert error["ReasonCode"] == "INVALID_BODY_HASH"
    assert error["Details"].startswith("Calculated: ")


def test_a_signature_by_another_key(sandbox: SandboxServer) -> None:
    url = sandbox.origin + ELIGIBLE_PATH
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = OAuth.get_authorization_header(url, "POST", BODY, sandbox.keys.consumer_key, stranger)
    response = requests.post(url, data=BODY, headers={"Authorization": header}, timeout=5)
    assert response.status_code == 401
    assert _gateway_error(response)["ReasonCode"] == "INVALID_SIGNATURE"


def test_a_signature_for_another_path(sandbox: SandboxServer) -> None:
    key = load_signing_key(str(sandbox.keys.client_signing_p12), sandbox.keys.client_signing_p12_password)
    header = OAuth.get_authorization_header(
        sandbox.origin + ELIGIBLE_PATH, "POST", BODY, sandbox.keys.consumer_key, key
    )
    other = sandbox.origin + ELIGIBLE_PATH.replace("/mdes/", "/mdes/mtf/")
    response = requests.post(other, data=BODY, headers={"Authorization": header}, timeout=5)
    assert _gateway_error(response)["ReasonCode"] == "INVALID_SIGNATURE"


@pytest.mark.parametrize(("offset", "status"), [(290, 200), (-290, 200), (310, 401), (-310, 401)])
def test_the_timestamp_window_is_300_seconds_either_way(sandbox: SandboxServer, offset: int, status: int) -> None:
    sandbox.shift_clock(offset)
    response = sandbox.call("POST", ELIGIBLE_PATH, BODY)
    assert response.status_code == status
    if status == 401:
        assert _gateway_error(response)["ReasonCode"] == "OAUTH_TIMESTAMP_OUT_OF_RANGE"


def test_a_replayed_nonce(sandbox: SandboxServer) -> None:
    url = sandbox.origin + ELIGIBLE_PATH
    key = load_signing_key(str(sandbox.keys.client_signing_p12), sandbox.keys.client_signing_p12_password)
    headers = {"Authorization": OAuth.get_authorization_header(url, "POST", BODY, sandbox.keys.consumer_key, key)}
    assert requests.post(url, data=BODY, headers=headers, timeout=5).status_code == 200
    replay = requests.post(url, data=BODY, headers=headers, timeout=5)
    assert replay.status_code == 401
    assert _gateway_error(replay)["ReasonCode"] == "OAUTH_NONCE_REUSED"


def test_a_forged_request_does_not_burn_the_nonce(sandbox: SandboxServer) -> None:
    url = sandbox.origin + ELIGIBLE_PATH
    key = load_signing_key(str(sandbox.keys.client_signing_p12), sandbox.keys.client_signing_p12_password)
    header = OAuth.get_authorization_header(url, "POST", BODY, sandbox.keys.consumer_key, key)
    forged = header.replace('oauth_signature="', 'oauth_signature="AAAA')
    assert requests.post(url, data=BODY, headers={"Authorization": forged}, timeout=5).status_code == 401
    assert requests.post(url, data=BODY, headers={"Authorization": header}, timeout=5).status_code == 200


def test_a_client_registered_through_the_control_api(sandbox: SandboxServer) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    sandbox.control("POST", "clients", {"consumerKey": "second-client!01", "certificatePem": pem.decode()})
    url = sandbox.origin + ELIGIBLE_PATH
    header = OAuth.get_authorization_header(url, "POST", BODY, "second-client!01", key)
    assert requests.post(url, data=BODY, headers={"Authorization": header}, timeout=5).status_code == 200
