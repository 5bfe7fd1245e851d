"""An inbox standing in for SMS and e-mail: the portal "sends" its one-time codes here in demo mode."""

import re
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from markupsafe import Markup, escape

from sandbox.state import current_state as state

blueprint = Blueprint("inbox", __name__)

CHANNELS = ("sms", "email")
_LIMITS = {"to": (1, 320), "subject": (0, 200), "body": (1, 5000)}
_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"']+")


@blueprint.app_template_filter("linked")
def linked(text: str) -> Markup:
    """A message's text with its web addresses as links, as a phone shows a text with a link in it."""
    parts, last = [], 0
    for found in _WEB_ADDRESS.finditer(text):
        parts += [escape(text[last : found.start()]), Markup('<a href="{0}">{0}</a>').format(found.group(0))]
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _problems(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return ["The body must be a JSON object."]
    problems = []
    if data.get("channel") not in CHANNELS:
        problems.append(f"channel must be one of {', '.join(CHANNELS)}.")
    for name, (minimum, maximum) in _LIMITS.items():
        value = data.get(name, "" if minimum == 0 else None)
        if not isinstance(value, str) or not minimum <= len(value) <= maximum:
            problems.append(f"{name} must be a string of {minimum} to {maximum} characters.")
    return problems


@blueprint.post("/inbox/messages")
def receive() -> tuple[Response, int]:
    data = request.get_json(silent=True)
    problems = _problems(data)
    if problems or not isinstance(data, dict):
        return jsonify({"errors": problems}), 400
    message = state().add_message(
        channel=data["channel"], to=data["to"], subject=data.get("subject", ""), body=data["body"]
    )
    return jsonify(message.to_json()), 201


@blueprint.get("/inbox")
def page() -> str:
    return render_template("inbox.html", messages=state().messages(), portal_origin=state().config.portal_origin)


@blueprint.get("/inbox/messages.json")
def messages_json() -> Response:
    recipient = request.args.get("to")
    messages = [m.to_json() for m in state().messages() if recipient is None or m.to == recipient]
    return jsonify({"messages": messages})
