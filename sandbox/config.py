"""How one sandbox instance behaves. Every choice Mastercard's material leaves open is a field here."""

from dataclasses import dataclass

from sandbox.keys import DemoKeys

# Receipt prefix by account range start (MDES knows the product of each range; the sandbox is told).
DEFAULT_RECEIPT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("555555555", "DMC"),
    ("520082828", "DMC"),
    ("510510510", "MCC"),
    ("222300004", "MCC"),
)


@dataclass(frozen=True)
class SandboxConfig:
    keys: DemoKeys
    # Origin of the portal, allowed as a form target on the simulated pages and linked from them.
    portal_origin: str | None = None
    # Origin written into push URIs; by default the origin each request reached the sandbox on.
    public_origin: str | None = None
    # Accepted distance between oauth_timestamp and the sandbox clock, either way.
    timestamp_window_seconds: int = 300
    # HTTP status of request-level input errors. MDES documents both an error status ("default" response)
    # and errors inside a 200; 200 here makes the sandbox answer the second way.
    request_error_status: int = 400
    # Upper bound for the SANDBOX-SLOW-<seconds> magic request id.
    max_slow_seconds: float = 120.0
    receipt_prefixes: tuple[tuple[str, str], ...] = DEFAULT_RECEIPT_PREFIXES
    # The issuer's services (MDES -> issuer), e.g. http://127.0.0.1:8000/mdes-issuer/1/0: where the simulated
    # wallet's manual adds ask for a decision. None: manual adds are refused (the control API can set it later).
    issuer_services_url: str | None = None
    # How long a code MDES makes for the cardholder lasts (W1: 15 minutes, not configurable).
    activation_code_minutes: int = 15
