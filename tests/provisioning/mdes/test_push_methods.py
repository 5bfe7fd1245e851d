"""Which push method URIs the portal accepts from MDES, and the one CSP source each may add (pen test finding 1)."""

import pytest
from django.test import override_settings

from provisioning.mdes.push_methods import CspSource, PushUriRefusedError, push_uri_source


@pytest.mark.parametrize(
    ("method_type", "uri", "source"),
    [
        ("WEB", "https://wallet.example/push?x=1#top", "https://wallet.example"),
        ("WEB", "HTTPS://Wallet.Example:443/push", "https://wallet.example"),
        ("WEB", "https://wallet.example:8443/push", "https://wallet.example:8443"),
        ("IOS", "https://app.wallet.example/ios", "https://app.wallet.example"),
        ("VISION_OS", "https://wallet.example/push", "https://wallet.example"),  # a new type, https like WEB
        ("ANDROID", "https://wallet.example/android", "https://wallet.example"),
        ("ANDROID", "tokenrequestor1://com.tokenrequestor1.pushtoken", "tokenrequestor1:"),
        ("ANDROID", "intent://push#Intent;scheme=wallet;end", "intent:"),
        ("ANDROID", "my.wallet+app-1://push", "my.wallet+app-1:"),
        ("WEB", "http://127.0.0.1:8001/tr/50100000011/push", "http://127.0.0.1:8001"),  # the local sandbox
        ("WEB", "http://sandbox.localhost/tr/push", "http://sandbox.localhost"),
    ],
)
def test_an_allowed_uri_gives_its_serialised_origin_or_scheme(method_type: str, uri: str, source: str) -> None:
    assert push_uri_source(method_type, uri) == source


@pytest.mark.parametrize(
    ("method_type", "uri", "reason"),
    [
        ("WEB", "https://a.example; script-src * 'unsafe-inline'; img-src *", "characters"),
        ("WEB", "https://a.example;script-src:*", "host"),
        ("WEB", "https://a.example,https://b.example", "host"),
        ("WEB", "https://a.example'/push", "host"),
        ("WEB", 'https://a.example"/push', "characters"),
        ("WEB", "https://a.example/push\nscript-src *", "characters"),
        ("WEB", "https://a.example/\u2028push", "characters"),
        ("WEB", "https://bücher.example/push", "characters"),
        ("WEB", "https://a.example\uff1b/push", "characters"),
        ("WEB", "https://user:secret@wallet.example/push", "user information"),
        ("WEB", "https://wallet.example@evil.example/push", "user information"),
        ("WEB", "https://*.example/push", "host"),
        ("WEB", "https://[::1]:8443/push", "host"),
        ("WEB", "https://a..example/push", "host"),
        ("WEB", "https://-a.example/push", "host"),
        ("WEB", "https://999.1.1.1/push", "host"),
        ("WEB", "https:///push/x/y/z", "host"),
        ("WEB", "https:wallet.example/push", "host"),
        ("WEB", "https://wallet.example:0/push", "port"),
        ("WEB", "https://wallet.example:99999/push", "port"),
        ("WEB", "https://wallet.example:+443/push", "port"),
        ("WEB", "https://wallet.example/" + "a" * 110, "characters long"),
        ("WEB", "https://a", "characters long"),
        ("WEB", "http://wallet.example/push", "plain http"),
        ("WEB", "http://10.0.0.1:8001/push", "plain http"),
        ("WEB", "javascript:alert(document.domain)//", "scheme"),
        ("ANDROID", "javascript:alert(document.domain)//", "scheme"),
        ("ANDROID", "JavaScript:alert(document.domain)", "scheme"),
        ("ANDROID", "data:text/html,<script>alert(1)</script>", "characters"),
        ("ANDROID", "data:text/html;base64,PHNjcmlwdD4", "scheme"),
        ("ANDROID", "vbscript:msgbox(1)", "scheme"),
        ("ANDROID", "file:///etc/passwd", "scheme"),
        ("ANDROID", "blob:https://a.example/x", "scheme"),
        ("ANDROID", "about:blank#x", "scheme"),
        ("ANDROID", "filesystem:https://a.example/x", "scheme"),
        ("ANDROID", "ws://wallet.example/push", "scheme"),
        ("ANDROID", "wss://wallet.example/push", "scheme"),
        ("ANDROID", "http://wallet.example/push", "plain http"),
        ("ANDROID", "TokenRequestor://push/card", "scheme"),
        ("ANDROID", "1wallet://push/card", "scheme"),
        ("ANDROID", "wallet://user@push/card", "user information"),
        ("ANDROID", "no-scheme-at-all", "scheme"),
        ("IOS", "tokenrequestor1://com.tokenrequestor1.pushtoken", "scheme"),
        ("WEB", "tokenrequestor1://com.tokenrequestor1.pushtoken", "scheme"),
    ],
)
def test_anything_else_is_refused_saying_why(method_type: str, uri: str, reason: str) -> None:
    with pytest.raises(PushUriRefusedError, match=reason):
        push_uri_source(method_type, uri)


@override_settings(MDES_ALLOW_LOCAL_SANDBOX=False)
def test_plain_http_to_the_local_sandbox_only_while_it_is_allowed() -> None:
    with pytest.raises(PushUriRefusedError, match="plain http"):
        push_uri_source("WEB", "http://127.0.0.1:8001/tr/50100000011/push")


@pytest.mark.parametrize(
    "value",
    [
        "https://a.example; script-src *",
        "https://a.example script-src",
        "'unsafe-inline'",
        "*",
        "https:",
        "javascript:",
        "https://*.example",
        "",
        "a b:",
    ],
)
def test_a_csp_source_is_one_well_formed_source_or_nothing(value: str) -> None:
    with pytest.raises(ValueError, match="not a single origin"):
        CspSource(value)
