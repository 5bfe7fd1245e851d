"""The push form's CSP: whatever push URIs MDES listed, the policy gains at most one well-formed source per URI."""

import pytest
from csp.utils import build_policy
from django.http import HttpResponse
from hypothesis import given
from hypothesis import strategies as st

from provisioning.devices import csp_allow_form_action, push_method_origins
from provisioning.mdes.push_methods import CspSource
from provisioning.models import DeviceEnvironment, TokenRequestor
from tests.csp import csp_added_form_action

_SCHEMES = st.sampled_from(
    [
        "https",
        "HTTPS",
        "http",
        "javascript",
        "JavaScript",
        "data",
        "vbscript",
        "file",
        "blob",
        "about",
        "filesystem",
        "ws",
        "wss",
        "wallet",
        "intent",
        "Wallet",
        "tr1",
        "",
    ]
)
_HOSTS = st.one_of(
    st.sampled_from(["a.example", "127.0.0.1", "localhost", "[::1]", "*.example", "a..example", "bücher.example"]),
    st.from_regex(r"[a-z0-9.*-]{1,20}", fullmatch=True),
)
# What an attacker would put in a URI to break out of one CSP source, or to look like another.
_HOSTILE = st.sampled_from(
    [
        ";",
        "'",
        '"',
        " ",
        ",",
        "\n",
        "\r\n",
        "\t",
        "\x00",
        "\x7f",
        "*",
        "'unsafe-inline'",
        " script-src * ",
        "; img-src *",
        "\u2028",
        "\u202e",
        "\uff1b",
        "é",
        "%3B",
        "@",
        "user:pw@",
        "\\",
        "#",
        "?",
        "/",
        ":",
        ":0",
        ":99999",
        "//",
    ]
)


@st.composite
def hostile_uris(draw: st.DrawFn) -> str:
    """URIs built like real ones, with hostile pieces spliced in anywhere; some overlong, some pure noise."""
    uri = (
        draw(_SCHEMES)
        + draw(st.sampled_from(["://", ":", ":/", "://user@"]))
        + draw(_HOSTS)
        + draw(st.sampled_from(["", ":8443", ":443"]))
        + draw(st.sampled_from(["/push", "/tr/50100000011/android", "", "/" + "a" * 120]))
    )
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(uri)))
        uri = uri[:at] + draw(_HOSTILE) + uri[at:]
    return draw(st.one_of(st.just(uri), st.text(max_size=140)))


@given(
    uris=st.lists(hostile_uris(), min_size=1, max_size=4),
    device=st.sampled_from([DeviceEnvironment.WEB, DeviceEnvironment.ANDROID, DeviceEnvironment.IOS]),
)
def test_no_push_uri_changes_the_policy_beyond_one_origin_source_per_uri(uris: list[str], device: str) -> None:
    requestors = [
        TokenRequestor(push_methods=[{"type": kind, "uri": uri} for kind in ("WEB", "ANDROID", "IOS")]) for uri in uris
    ]
    # What the middleware builds from the wallet pages' update of form-action.
    policy = build_policy(update={"form-action": push_method_origins(requestors, device)})

    added = csp_added_form_action(build_policy(), policy)
    assert len(added) <= len(uris)
    for source in added:
        assert any(uri.lower().startswith(source) for uri in uris), source


def test_the_push_form_accepts_only_sources_the_validator_made() -> None:
    response = HttpResponse()
    csp_allow_form_action(response, [CspSource("https://wallet.example")])
    assert response._csp_update == {"form-action": ["https://wallet.example"]}  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        csp_allow_form_action(response, ["https://a.example; script-src *"])  # type: ignore[list-item]
