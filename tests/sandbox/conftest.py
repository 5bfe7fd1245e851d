from collections.abc import Callable

import pytest
from oauth1.authenticationutils import load_signing_key  # type: ignore[import-untyped]
from oauth1.oauth import OAuth  # type: ignore[import-untyped]

from sandbox.keys import DemoKeys


@pytest.fixture
def signed(sandbox_keys: DemoKeys) -> Callable[..., dict[str, str]]:
    """Authorization headers from Mastercard's signer, for requests to an in-process app (Flask test client)."""

    def headers(url: str, body: str | None, method: str = "POST") -> dict[str, str]:
        key = load_signing_key(str(sandbox_keys.client_signing_p12), sandbox_keys.client_signing_p12_password)
        return {"Authorization": OAuth.get_authorization_header(url, method, body, sandbox_keys.consumer_key, key)}

    return headers
