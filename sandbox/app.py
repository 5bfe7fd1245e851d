"""The sandbox's WSGI app: MDES Token Connect, simulated token requestors, a demo inbox and a control API."""

from flask import Flask, Response, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from sandbox import (
    card_on_file,
    click_to_pay,
    control,
    customer_service,
    inbox,
    mdes_api,
    token_requestor_pages,
    wallet_pages,
)
from sandbox.config import SandboxConfig
from sandbox.gateway import gateway_error_body
from sandbox.state import SandboxState
from sandbox.state import current_state as state


class _JsonProvider(DefaultJSONProvider):
    sort_keys = False  # keep MDES's field order, as a reader of the wire expects it


class _SandboxFlask(Flask):
    json_provider_class = _JsonProvider


def create_app(config: SandboxConfig) -> Flask:
    """A fresh sandbox with its own in-memory state (fixture token requestors, demo client registered)."""
    app = _SandboxFlask(__name__, static_folder="static", template_folder="templates")
    app.extensions["sandbox"] = SandboxState(config)
    app.url_map.merge_slashes = False  # MDES answers an odd path with an error, never with a redirect
    blueprints = (
        mdes_api.blueprint,
        customer_service.blueprint,
        token_requestor_pages.blueprint,
        wallet_pages.blueprint,
        click_to_pay.blueprint,
        card_on_file.blueprint,
        inbox.blueprint,
        control.blueprint,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/", "index", index)
    app.after_request(_common_headers)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_found)
    return app


def _not_found(error: HTTPException) -> Response | HTTPException:
    """Under /mdes the gateway answers in its own JSON shape, not with an HTML page."""
    if not request.path.startswith("/mdes/"):
        return error
    response = jsonify(gateway_error_body("RESOURCE_NOT_FOUND", f"No {request.method} resource at this path"))
    response.status_code = error.code or 404
    return response


def healthz() -> Response:
    return jsonify({"status": "ok"})


def index() -> str:
    origin = state().config.public_origin or request.host_url.rstrip("/")
    return render_template("index.html", origin=origin, token_requestors=state().all_token_requestors())


def _common_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'",
        )
    return response
