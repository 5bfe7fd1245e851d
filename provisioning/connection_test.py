"""The staff's "Test the connection to MDES": one real call with a configuration, explained in plain words."""

from dataclasses import dataclass

from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import audit_event_record
from provisioning.mdes.client import TokenConnectClient
from provisioning.mdes.errors import (
    MdesApplicationError,
    MdesConfigurationError,
    MdesError,
    MdesGatewayError,
    MdesProtocolError,
    MdesUnavailable,
)
from provisioning.models import NetworkConfiguration


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    message: str


def _explain(error: MdesError) -> str:
    codes = ", ".join(error.reason_codes) or "no reason code"
    if isinstance(error, MdesConfigurationError):
        return f"The portal cannot use this configuration: {error}"
    if isinstance(error, MdesGatewayError):
        return (
            f"Mastercard's gateway refused the call ({codes}). Check the consumer key, the signing key and the clock."
        )
    if isinstance(error, MdesApplicationError):
        return f"MDES refused the request ({codes}). Check the account ranges enabled for Token Connect."
    if isinstance(error, MdesUnavailable):
        return "MDES could not be reached or did not answer in time. Try again later; check the base URL and network."
    if isinstance(error, MdesProtocolError):
        return "MDES answered with something the portal cannot understand. Check the base URL."
    return f"The call failed: {error}"


def network_configuration_test(*, config: NetworkConfiguration, actor: object, request: HttpRequest) -> ConnectionTest:
    """Call getEligibleTokenRequestors with the configuration's ranges and say what happened in plain words."""
    ranges = list(config.account_ranges.values_list("start", flat=True))
    if not ranges:
        result = ConnectionTest(False, "Add at least one account range first: MDES is asked about your ranges.")
    else:
        try:
            requestors = TokenConnectClient.from_configuration(config).get_eligible_token_requestors(ranges)
        except MdesError as error:
            result = ConnectionTest(False, _explain(error))
        else:
            result = ConnectionTest(
                True, f"Connected: MDES listed {len(requestors)} token requestor(s) for {len(ranges)} account range(s)."
            )
    audit_event_record(
        action="networkconfiguration.connection_tested",
        actor=actor,
        target=config,
        outcome=AuditEvent.Outcome.SUCCESS if result.ok else AuditEvent.Outcome.FAILURE,
        detail=result.message,
        request=request,
    )
    return result
