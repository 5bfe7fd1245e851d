"""CustomerServiceClient against the sandbox's Customer Service API, over HTTP: every call, happy and unhappy."""

import json
import time
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from provisioning.mdes.customer_service import CustomerServiceClient
from provisioning.mdes.customer_service_types import (
    AuditInfo,
    DeleteReason,
    SearchOptions,
    SuspendReason,
    UnsuspendReason,
)
from provisioning.mdes.errors import (
    MdesApplicationError,
    MdesConfigurationError,
    MdesGatewayError,
    MdesOutcomeUnknown,
    MdesUnavailable,
)
from provisioning.mdes.hosts import derived_customer_service_base_url
from provisioning.models import NetworkConfiguration
from tests.fixtures.mdes_samples import ELIGIBLE_PAN, ELIGIBLE_PAN_CREDIT
from tests.fixtures.sandbox_server import SandboxServer

DEMOPAY = "50100000011"
STAFF = AuditInfo.staff(user_id=7, user_name="Sam Support", organization="Demo Bank")
SELF_SERVICE = AuditInfo.service(cardholder_reference="CH-42", organization="Demo Bank")


def _magic(user_id: str) -> AuditInfo:
    return AuditInfo(user_id=user_id, user_name="Sam Support", organization="Demo Bank")


@pytest.fixture
def cs_client(sandbox_configuration: NetworkConfiguration) -> CustomerServiceClient:
    return CustomerServiceClient.from_configuration(sandbox_configuration)


@pytest.fixture
def token(sandbox: SandboxServer) -> str:
    reference: str = sandbox.create_token(accountNumber=ELIGIBLE_PAN, tokenRequestorId=DEMOPAY)["TokenUniqueReference"]
    return reference


def test_base_url_is_derived_and_allow_listed(sandbox_configuration: NetworkConfiguration) -> None:
    assert derived_customer_service_base_url("https://api.mastercard.com/mdes") == (
        "https://api.mastercard.com/mdes/csapi/v2"
    )
    assert derived_customer_service_base_url("https://api.mastercard.com/mdes/mtf/") == (
        "https://api.mastercard.com/mdes/csapi/mtf/v2"
    )
    assert sandbox_configuration.effective_customer_service_base_url.endswith("/mdes/csapi/v2")
    sandbox_configuration.customer_service_base_url = "https://evil.example/mdes/csapi/v2"
    with pytest.raises(MdesConfigurationError, match="not allowed"):
        CustomerServiceClient.from_configuration(sandbox_configuration)


def test_search_by_reference_returns_the_token(cs_client: CustomerServiceClient, token: str) -> None:
    result = cs_client.search_by_token_unique_reference(token, audit=STAFF)
    (found,) = result.tokens
    assert (found.token_unique_reference, found.status, found.token_requestor_id) == (token, "A", DEMOPAY)
    assert found.account_pan_suffix == ELIGIBLE_PAN[-4:]
    assert found.device_name
    assert found.device_type == "21"


def test_search_by_account_number_is_encrypted_and_finds_every_token(
    cs_client: CustomerServiceClient, sandbox: SandboxServer, sandbox_configuration: NetworkConfiguration
) -> None:
    """The wire carries no card number; the test key opens what was sent, without the sandbox's code."""
    first = sandbox.create_token(accountNumber=ELIGIBLE_PAN, tokenRequestorId=DEMOPAY)
    second = sandbox.create_token(accountNumber=ELIGIBLE_PAN, tokenRequestorId=DEMOPAY, deviceName="Watch")
    sandbox.create_token(accountNumber=ELIGIBLE_PAN_CREDIT, tokenRequestorId=DEMOPAY)
    sent: list[bytes] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: sent.append(response.request.body))
    client = CustomerServiceClient(
        base_url=sandbox_configuration.effective_customer_service_base_url,
        environment=sandbox_configuration.environment,
        consumer_key=sandbox.keys.consumer_key,
        signing_key=_signing_key(sandbox),
        encryption_certificate_path=str(sandbox.keys.encryption_certificate),
        session=session,
    )
    result = client.search_by_account_number(ELIGIBLE_PAN, audit=STAFF)
    assert {t.token_unique_reference for t in result.tokens} == {
        first["TokenUniqueReference"],
        second["TokenUniqueReference"],
    }
    (body,) = sent
    assert ELIGIBLE_PAN.encode() not in body
    envelope = json.loads(body)["SearchRequest"]["EncryptedAccountInformation"]
    assert set(envelope) == {"EncryptedData", "EncryptedKey", "Iv", "PublicKeyFingerprint", "OaepHashingAlgorithm"}
    private_key = serialization.load_pem_private_key(sandbox.keys.encryption_private_key.read_bytes(), None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA512()), algorithm=hashes.SHA512(), label=None)
    key = private_key.decrypt(bytes.fromhex(envelope["EncryptedKey"]), oaep)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes.fromhex(envelope["Iv"]))).decryptor()
    padded = decryptor.update(bytes.fromhex(envelope["EncryptedData"])) + decryptor.finalize()
    unpadder = symmetric_padding.PKCS7(128).unpadder()
    clear = json.loads(unpadder.update(padded) + unpadder.finalize())
    assert clear == {"CurrentAccount": {"AccountPan": ELIGIBLE_PAN}}


def _signing_key(sandbox: SandboxServer) -> Any:
    from tests.fixtures.sandbox_server import signing_key_of

    return signing_key_of(sandbox.keys)


def test_empty_result_is_no_tokens(cs_client: CustomerServiceClient, sandbox: SandboxServer) -> None:
    assert cs_client.search_by_account_number(ELIGIBLE_PAN, audit=STAFF).tokens == ()
    assert cs_client.search_by_token_unique_reference("DSBXMC" + "0" * 42, audit=STAFF).tokens == ()


def test_search_options_exclude_deleted(cs_client: CustomerServiceClient, token: str) -> None:
    cs_client.delete(
        token, reason_code=DeleteReason.ACCOUNT_CLOSED, audit=STAFF, comment=None, from_consumer_app_only=False
    )
    assert cs_client.search_by_token_unique_reference(token, audit=STAFF).tokens[0].status == "D"
    options = SearchOptions(exclude_deleted=True)
    assert cs_client.search_by_token_unique_reference(token, audit=STAFF, options=options).tokens == ()


def test_suspend_unsuspend_with_comment_and_history(cs_client: CustomerServiceClient, token: str) -> None:
    result = cs_client.suspend(token, reason_code=SuspendReason.DEVICE_LOST, audit=STAFF, comment="Phone lost")
    assert result.token_unique_reference == token
    assert result.comment_id
    assert cs_client.search_by_token_unique_reference(token, audit=STAFF).tokens[0].suspenders == ("I",)
    cs_client.unsuspend(token, reason_code=UnsuspendReason.DEVICE_FOUND, audit=STAFF, comment=None)
    history = cs_client.status_history(token, audit=STAFF)
    assert [(c.status_code, c.initiator, c.reason_code) for c in history] == [("S", "I", "L"), ("A", "I", "F")]
    assert history[0].comment_id == result.comment_id
    assert history[0].audit_user_id == "staff-7"


def test_multiple_suspenders(cs_client: CustomerServiceClient, token: str) -> None:
    """Issuer and cardholder suspend; the token is active again only once both have unsuspended; neither lifts
    the other's suspension."""
    cs_client.suspend(token, reason_code="T", audit=STAFF, comment=None)
    cs_client.suspend(token, reason_code="L", audit=SELF_SERVICE, comment=None)
    assert set(cs_client.search_by_token_unique_reference(token, audit=STAFF).tokens[0].suspenders) == {"I", "C"}
    cs_client.unsuspend(token, reason_code="T", audit=STAFF, comment=None)
    with pytest.raises(MdesApplicationError) as refused:
        cs_client.unsuspend(token, reason_code="F", audit=STAFF, comment=None)
    assert refused.value.reason_codes == ("INVALID_STATE",)
    found = cs_client.search_by_token_unique_reference(token, audit=STAFF).tokens[0]
    assert (found.status, found.suspenders) == ("S", ("C",))
    cs_client.unsuspend(token, reason_code="F", audit=SELF_SERVICE, comment=None)
    assert cs_client.search_by_token_unique_reference(token, audit=STAFF).tokens[0].status == "A"


def test_self_service_goes_as_the_service_identity(cs_client: CustomerServiceClient, token: str) -> None:
    cs_client.suspend(token, reason_code="L", audit=SELF_SERVICE, comment="Lost it")
    history = cs_client.status_history(token, audit=STAFF)
    assert history[0].audit_user_id == "portal-self-service"


def test_delete_from_consumer_app_only_keeps_the_token(cs_client: CustomerServiceClient, token: str) -> None:
    cs_client.delete(token, reason_code="D", audit=STAFF, comment=None, from_consumer_app_only=True)
    found = cs_client.search_by_token_unique_reference(token, audit=STAFF).tokens[0]
    assert (found.status, found.deleted_from_consumer_app) == ("A", True)
    cs_client.delete(token, reason_code="D", audit=STAFF, comment=None, from_consumer_app_only=False)
    assert cs_client.search_by_token_unique_reference(token, audit=STAFF).tokens[0].status == "D"
    with pytest.raises(MdesApplicationError, match="INVALID_STATE"):
        cs_client.delete(token, reason_code="D", audit=STAFF, comment=None, from_consumer_app_only=False)


def test_activate(cs_client: CustomerServiceClient, sandbox: SandboxServer) -> None:
    pending = sandbox.create_token(accountNumber=ELIGIBLE_PAN, tokenRequestorId=DEMOPAY, status="U")
    reference = pending["TokenUniqueReference"]
    cs_client.activate(reference, reason_code="C", audit=STAFF, comment="Identity confirmed by phone")
    assert cs_client.search_by_token_unique_reference(reference, audit=STAFF).tokens[0].status == "A"
    with pytest.raises(MdesApplicationError, match="INVALID_STATE"):
        cs_client.activate(reference, reason_code="C", audit=STAFF)


def test_token_requestor_search(cs_client: CustomerServiceClient, sandbox: SandboxServer) -> None:
    info = cs_client.token_requestor(DEMOPAY, audit=STAFF)
    assert (info.token_requestor_id, info.name) == (DEMOPAY, "DemoPay Wallet Services Ltd")
    with pytest.raises(MdesApplicationError, match="EMPTY_RESULT"):
        cs_client.token_requestor("50199999999", audit=STAFF)


def test_wrong_reason_codes_raise_before_any_call(
    cs_client: CustomerServiceClient, sandbox: SandboxServer, token: str
) -> None:
    before = len(sandbox.request_log())
    for call in (
        lambda: cs_client.suspend(token, reason_code="F", audit=STAFF, comment=None),
        lambda: cs_client.unsuspend(token, reason_code="L", audit=STAFF, comment=None),
        lambda: cs_client.delete(token, reason_code="X", audit=STAFF, comment=None, from_consumer_app_only=False),
        lambda: cs_client.activate(token, reason_code="Z", audit=STAFF),
    ):
        with pytest.raises(ValueError, match="is not a"):
            call()
    assert len(sandbox.request_log()) == before


def test_audit_info_refuses_e_mail_addresses_and_card_numbers() -> None:
    with pytest.raises(ValueError, match="e-mail"):
        AuditInfo(user_id="sam@bank.example", user_name="Sam Support", organization="Demo Bank")
    with pytest.raises(ValueError, match="card number"):
        AuditInfo.service(cardholder_reference=ELIGIBLE_PAN, organization="Demo Bank")


def test_unknown_token_is_empty_result_for_lifecycle_calls(
    cs_client: CustomerServiceClient, sandbox: SandboxServer
) -> None:
    with pytest.raises(MdesApplicationError) as refused:
        cs_client.suspend("DSBXMC" + "0" * 42, reason_code="L", audit=STAFF, comment=None)
    assert (refused.value.status, refused.value.reason_codes) == (400, ("EMPTY_RESULT",))


@pytest.mark.parametrize("reason_code", ["INVALID_FIELD_VALUE", "MISSING_CONDITIONAL_FIELD", "INVALID_STATE"])
def test_application_errors_by_reason_code(cs_client: CustomerServiceClient, token: str, reason_code: str) -> None:
    with pytest.raises(MdesApplicationError) as refused:
        cs_client.suspend(token, reason_code="L", audit=_magic(f"SANDBOX-ERROR-{reason_code}"), comment=None)
    assert refused.value.reason_codes == (reason_code,)
    assert refused.value.errors[0].source == "MDES"


def test_gateway_refusal_of_a_bad_signature(
    sandbox: SandboxServer, sandbox_configuration: NetworkConfiguration, token: str
) -> None:
    client = CustomerServiceClient(
        base_url=sandbox_configuration.effective_customer_service_base_url,
        environment=sandbox_configuration.environment,
        consumer_key=sandbox.keys.consumer_key,
        signing_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        encryption_certificate_path=str(sandbox.keys.encryption_certificate),
    )
    with pytest.raises(MdesGatewayError) as refused:
        client.search_by_token_unique_reference(token, audit=STAFF)
    assert (refused.value.status, refused.value.reason_codes) == (401, ("INVALID_SIGNATURE",))


def test_forced_gateway_refusal(cs_client: CustomerServiceClient, token: str) -> None:
    with pytest.raises(MdesGatewayError) as refused:
        cs_client.status_history(token, audit=_magic("SANDBOX-GATEWAY-403"))
    assert refused.value.reason_codes == ("PERMISSION_DENIED",)


def test_5xx(cs_client: CustomerServiceClient, token: str) -> None:
    with pytest.raises(MdesUnavailable) as unavailable:
        cs_client.search_by_token_unique_reference(token, audit=_magic("SANDBOX-MDES-503"))
    assert unavailable.value.status == 503
    with pytest.raises(MdesOutcomeUnknown):
        cs_client.suspend(token, reason_code="L", audit=_magic("SANDBOX-MDES-500"), comment=None)


def test_timeout(sandbox: SandboxServer, sandbox_configuration: NetworkConfiguration, token: str) -> None:
    client = CustomerServiceClient(
        base_url=sandbox_configuration.effective_customer_service_base_url,
        environment=sandbox_configuration.environment,
        consumer_key=sandbox.keys.consumer_key,
        signing_key=_signing_key(sandbox),
        encryption_certificate_path=str(sandbox.keys.encryption_certificate),
        timeout=(2.0, 0.3),
    )
    with pytest.raises(MdesUnavailable, match="in time"):
        client.status_history(token, audit=_magic("SANDBOX-SLOW-1"))
    with pytest.raises(MdesOutcomeUnknown, match="in time"):
        client.suspend(token, reason_code="L", audit=_magic("SANDBOX-SLOW-1"), comment=None)
    time.sleep(1.0)  # let the slow answers finish here, not in the sandbox log of the next test
