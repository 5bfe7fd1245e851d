"""Only MDES: every call is refused unless it carries what ISSUER_SERVICES_AUTHENTICATION asks for, and every
refusal is MDES's error shape and an audit event."""

import json
import time
from dataclasses import replace
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from audit.models import AuditEvent
from cardholders.models import Card
from sandbox.issuer_services import IssuerServicesClient, SignedCall
from tests.fixtures.issuer_services import PREFIX

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY = "CN=ws.mastercard.com,O=MasterCard Worldwide"
FIELD_ERRORS = {"MISSING_REQUIRED_FIELD", "INVALID_FIELD_FORMAT", "INVALID_FIELD_LENGTH"}


def _send(call: SignedCall, **headers: str) -> requests.Response:
    return requests.post(call.url, data=call.body, headers={**call.headers, **headers}, timeout=10)


def _refusal(response: requests.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"responseId", "errorCode", "errorDescription"}
    event = AuditEvent.objects.filter(action="issuer_service.refused").latest("id")
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert (event.after or {})["error_code"] == body["errorCode"]
    return body


def _notify(mdes: IssuerServicesClient, **header: Any) -> SignedCall:
    payload = {
        "requestId": "req-1",
        "reasonCode": "STATUS_UPDATE",
        "tokens": [{"tokenUniqueReference": "X" * 48, "status": "ACTIVE"}],
    }
    return mdes.sign("notifyTokenUpdated", payload, **header)


def test_a_signed_call_is_accepted(mdes: IssuerServicesClient) -> None:
    assert _send(_notify(mdes)).status_code == 200


def test_an_unsigned_call_is_refused(mdes: IssuerServicesClient) -> None:
    call = _notify(mdes)
    response = requests.post(call.url, data=call.body, headers={"Content-Type": "application/json"}, timeout=10)

    assert response.status_code == 401
    body = _refusal(response)
    assert body["errorCode"] == "AUTHENTICATION_FAILED"
    assert "X-JWS-Signature" in body["errorDescription"]
    assert body["responseId"] == "req-1"


def test_a_body_changed_after_signing_is_refused(mdes: IssuerServicesClient) -> None:
    call = _notify(mdes)
    altered = replace(call, body=call.body.replace(b"STATUS_UPDATE", b"DELETED_FROM_CONSUMER_APP"))

    response = _send(altered)

    assert response.status_code == 401
    assert "does not verify" in _refusal(response)["errorDescription"]


def test_a_signature_by_another_key_is_refused(mdes: IssuerServicesClient) -> None:
    impostor = IssuerServicesClient(
        base_url=mdes.base_url,
        signing_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        kid=mdes.kid,  # claims the network's key
        encryption_certificate=mdes.encryption_certificate,
    )

    response = _send(_notify(impostor))

    assert response.status_code == 401
    assert _refusal(response)["errorCode"] == "AUTHENTICATION_FAILED"


def test_a_key_the_portal_does_not_know_is_refused(mdes: IssuerServicesClient) -> None:
    response = _send(_notify(mdes, kid="someone-elses-key"))

    assert response.status_code == 401
    assert "names no key" in _refusal(response)["errorDescription"]


def test_a_replayed_call_is_refused(mdes: IssuerServicesClient) -> None:
    call = _notify(mdes)
    assert _send(call).status_code == 200

    response = _send(call)

    assert response.status_code == 401
    assert _refusal(response)["errorCode"] == "REPLAYED_REQUEST"


def test_a_stale_signature_is_refused(mdes: IssuerServicesClient) -> None:
    response = _send(_notify(mdes, iat=int(time.time()) - 3600))

    assert response.status_code == 401
    assert "iat" in _refusal(response)["errorDescription"]


def test_a_signature_for_another_operation_is_refused(mdes: IssuerServicesClient) -> None:
    call = _notify(mdes)
    elsewhere = replace(call, url=call.url.replace("notifyTokenUpdated", "notifyServiceActivated"))

    response = _send(elsewhere)

    assert response.status_code == 401
    assert "another operation" in _refusal(response)["errorDescription"]


def test_a_signature_with_its_payload_attached_is_refused(mdes: IssuerServicesClient) -> None:
    call = _notify(mdes)
    header, _, signature = call.headers["X-JWS-Signature"].split(".")

    response = _send(call, **{"X-JWS-Signature": f"{header}.e30.{signature}"})

    assert response.status_code == 401
    assert "detached" in _refusal(response)["errorDescription"]


@pytest.fixture
def mtls(issuer_services_on: Any) -> Any:
    issuer_services_on.ISSUER_SERVICES_AUTHENTICATION = ["mtls"]
    issuer_services_on.AXES_IPWARE_PROXY_COUNT = 1
    issuer_services_on.ISSUER_SERVICES_CLIENT_IDENTITIES = [IDENTITY]
    issuer_services_on.ISSUER_SERVICES_TRUSTED_PROXIES = ["127.0.0.1"]
    return issuer_services_on


def test_mtls_accepts_mdes_certificate_named_by_the_proxy(mtls: Any, mdes: IssuerServicesClient) -> None:
    assert _send(_notify(mdes), **{"X-Client-Certificate-Subject": IDENTITY}).status_code == 200


@pytest.mark.parametrize(
    ("change", "identity", "description"),
    [
        ({}, "CN=someone.example", "not one of MDES's"),
        ({}, "", "no verified client certificate"),
        ({"AXES_IPWARE_PROXY_COUNT": None}, IDENTITY, "not configured behind a TLS proxy"),
        ({"ISSUER_SERVICES_TRUSTED_PROXIES": ["10.0.0.7"]}, IDENTITY, "did not come through"),
    ],
    ids=["another-certificate", "no-certificate", "no-proxy-deployed", "not-through-the-proxy"],
)
def test_mtls_refuses_what_the_proxy_did_not_vouch_for(
    mtls: Any, mdes: IssuerServicesClient, change: dict[str, Any], identity: str, description: str
) -> None:
    for name, value in change.items():
        setattr(mtls, name, value)

    response = _send(_notify(mdes), **{"X-Client-Certificate-Subject": identity})

    assert response.status_code == 401
    assert description in _refusal(response)["errorDescription"]


def test_with_both_mechanisms_a_vouched_for_but_unsigned_call_is_refused(mtls: Any, mdes: IssuerServicesClient) -> None:
    mtls.ISSUER_SERVICES_AUTHENTICATION = ["mtls", "signature"]
    call = _notify(mdes)

    signed = _send(call, **{"X-Client-Certificate-Subject": IDENTITY})
    unsigned = requests.post(
        call.url,
        data=call.body,
        headers={"Content-Type": "application/json", "X-Client-Certificate-Subject": IDENTITY},
        timeout=10,
    )

    assert signed.status_code == 200
    assert unsigned.status_code == 401


# --- malformed calls: 4xx in MDES's shape, never a server error -------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "INVALID_JSON"),
        (b"\xff\xfe", "INVALID_JSON"),
        (b"[1, 2]", "INVALID_JSON"),
        (b"[" * 50 + b"]" * 50, "INVALID_JSON"),
        (b"{}", "MISSING_REQUIRED_FIELD"),
        (json.dumps({"requestId": 7}).encode(), "INVALID_FIELD_FORMAT"),
        (json.dumps({"requestId": "x" * 65}).encode(), "INVALID_FIELD_LENGTH"),
        (json.dumps({"requestId": "r", "services": "DIGITIZATION"}).encode(), "INVALID_FIELD_FORMAT"),
        (
            json.dumps(
                {
                    "requestId": "r",
                    "services": ["DIGITIZATION"],
                    "correlationId": "c",
                    "tokenType": "CLOUD",
                    "fundingAccountInfo": {"encryptedPayload": {"encryptedData": "zz"}},
                }
            ).encode(),
            "INVALID_FIELD_FORMAT",
        ),
    ],
    ids=["not-json", "not-utf8", "an-array", "too-deep", "empty", "wrong-type", "too-long", "not-a-list", "not-hex"],
)
@pytest.mark.parametrize(
    "operation",
    [
        "authorizeService",
        "requestActivationMethods",
        "deliverActivationCode",
        "validateActivationCode",
        "notifyServiceActivated",
        "notifyTokenUpdated",
    ],
)
def test_malformed_bodies_are_400s_in_mdes_shape(
    mdes: IssuerServicesClient, alice_card: Card, operation: str, body: bytes, code: str
) -> None:
    response = _send(mdes.sign(operation, body))

    assert response.status_code == 400, response.text
    # Which field an operation reads first differs; a JSON error is the same for all.
    assert _refusal(response)["errorCode"] in ({code} if code == "INVALID_JSON" else FIELD_ERRORS)


def test_other_methods_types_sizes_and_addresses_are_refused_in_mdes_shape(
    mdes: IssuerServicesClient, live_server: Any
) -> None:
    url = f"{live_server.url}{PREFIX}/authorizeService"
    got = requests.get(url, timeout=10)
    form = requests.post(url, data={"a": "b"}, timeout=10)
    large = _send(mdes.sign("authorizeService", b'{"requestId": "' + b"x" * 70_000 + b'"}'))
    unknown = _send(mdes.sign("tokenizeEverything", b"{}"))

    assert (got.status_code, got.json()["errorCode"]) == (405, "METHOD_NOT_ALLOWED")
    assert (form.status_code, form.json()["errorCode"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert (large.status_code, large.json()["errorCode"]) == (413, "REQUEST_TOO_LARGE")
    assert (unknown.status_code, unknown.json()["errorCode"]) == (404, "NOT_FOUND")


def test_while_off_the_services_answer_not_found_and_record_nothing(mdes: IssuerServicesClient, settings: Any) -> None:
    settings.ISSUER_SERVICES_ENABLED = False

    response = _send(_notify(mdes))

    assert (response.status_code, response.json()["errorCode"]) == (404, "NOT_FOUND")
    assert not AuditEvent.objects.exists()
