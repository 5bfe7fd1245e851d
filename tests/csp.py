"""Reading a Content-Security-Policy as its directives, to show what data from the network did or did not add."""

import re

# One origin (scheme://host[:port]) or one scheme-only source (an Android app's own scheme), and nothing else.
ONE_SOURCE = re.compile(r"(?:https?://[a-z0-9.-]+(?::[0-9]{1,5})?|[a-z][a-z0-9+.-]*:)")

# Push methods as MDES might list them; only the last two are allowed, and only as their origin or scheme.
HOSTILE_PUSH_METHODS = [
    {"type": "WEB", "uri": "https://a.example; script-src * 'unsafe-inline'; img-src *"},
    {"type": "ANDROID", "uri": "javascript:alert(document.domain)//"},
    {"type": "IOS", "uri": "https://b.example,'unsafe-inline'"},
    {"type": "WEB", "uri": "https://user:pw@c.example/push"},
    {"type": "WEB", "uri": "https://wallet.example/push;x='y'"},
    {"type": "ANDROID", "uri": "demopay://push/card"},
]
ALLOWED_SOURCES = {"WEB": {"https://wallet.example"}, "ANDROID": {"https://wallet.example", "demopay:"}}


def csp_directives(policy: str) -> list[tuple[str, list[str]]]:
    """The directives in order, each with its sources; nonces left out (each response has its own)."""
    directives = []
    for part in policy.split(";"):
        name, *values = part.split()
        directives.append((name, [value for value in values if not value.startswith("'nonce-")]))
    return directives


def csp_added_form_action(baseline: str, policy: str) -> set[str]:
    """The form-action sources `policy` has beyond `baseline`, after checking it differs in nothing else."""
    before, after = csp_directives(baseline), csp_directives(policy)
    assert [name for name, _ in after] == [name for name, _ in before]
    assert [d for d in after if d[0] != "form-action"] == [d for d in before if d[0] != "form-action"]
    sources = set(dict(after)["form-action"]) - set(dict(before)["form-action"])
    assert all(ONE_SOURCE.fullmatch(source) for source in sources), sources
    return sources
