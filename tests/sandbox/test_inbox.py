"""The demo inbox: the portal posts its one-time codes, people and tests read them, newest first."""

import pytest
import requests

from tests.fixtures.sandbox_server import SandboxServer


def _post(sandbox: SandboxServer, **message: str) -> requests.Response:
    return requests.post(f"{sandbox.origin}/inbox/messages", json=message, timeout=5)


def test_messages_are_listed_newest_first(sandbox: SandboxServer) -> None:
    first = _post(sandbox, channel="sms", to="+15555550100", subject="", body="Your code is 111111")
    second = _post(sandbox, channel="email", to="susan@example.test", subject="Your code", body="Code: 222222 <b>")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["channel"] == "email"

    listed = requests.get(f"{sandbox.origin}/inbox/messages.json", timeout=5).json()["messages"]
    assert [m["body"] for m in listed] == ["Code: 222222 <b>", "Your code is 111111"]
    only_sms = requests.get(f"{sandbox.origin}/inbox/messages.json", params={"to": "+15555550100"}, timeout=5)
    assert [m["channel"] for m in only_sms.json()["messages"]] == ["sms"]

    page = requests.get(f"{sandbox.origin}/inbox", timeout=5)
    assert page.status_code == 200
    assert page.text.index("222222") < page.text.index("111111")
    assert "&lt;b&gt;" in page.text  # escaped, never rendered
    assert "<script" not in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "message",
    [
        {"channel": "fax", "to": "x", "body": "b"},
        {"channel": "sms", "to": "", "body": "b"},
        {"channel": "sms", "to": "x", "body": ""},
        {"channel": "sms", "to": "x", "body": "b", "subject": "s" * 201},
    ],
)
def test_malformed_messages_are_refused(sandbox: SandboxServer, message: dict) -> None:
    response = requests.post(f"{sandbox.origin}/inbox/messages", json=message, timeout=5)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_reset_empties_the_inbox(sandbox: SandboxServer) -> None:
    _post(sandbox, channel="sms", to="+15555550100", body="Your code is 333333")
    sandbox.reset()
    assert requests.get(f"{sandbox.origin}/inbox/messages.json", timeout=5).json() == {"messages": []}


def test_web_addresses_in_a_message_are_links_and_nothing_else_is(sandbox: SandboxServer) -> None:
    body = 'Suspend it: http://127.0.0.1:8000/was-this-you/abc_DEF-123/ <a href="https://evil.test">x</a>'
    _post(sandbox, channel="sms", to="+15555550100", body=body)

    page = requests.get(f"{sandbox.origin}/inbox", timeout=5).text

    url = "http://127.0.0.1:8000/was-this-you/abc_DEF-123/"
    assert f'<a href="{url}">{url}</a>' in page
    assert "&lt;a href=&#34;" in page  # the body's own markup stays text (its address is linked, as a phone does)
    assert '<a href="https://evil.test">x</a>' not in page
