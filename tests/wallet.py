"""What a person does on the sandbox's simulated wallet page, driven over HTTP (no browser)."""

import re
from urllib.parse import urlsplit

import requests


def wallet_decides(redirect_url: str, decision: str) -> str:
    """Open the token requestor page MDES pointed at, answer it; returns where the wallet sends the person back."""
    page = requests.get(redirect_url, timeout=5)
    assert page.status_code == 200, page.text
    session = re.search(r'name="session" value="([^"]+)"', page.text)
    assert session
    action = urlsplit(redirect_url)._replace(path=urlsplit(redirect_url).path.rsplit("/", 1)[0] + "/decision", query="")
    answer = requests.post(
        action.geturl(), data={"session": session.group(1), "decision": decision}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"]
