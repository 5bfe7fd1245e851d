"""The simulated token requestors' push pages: what a wallet or merchant does with the issuer's redirect.

Conventions (sandbox/README.md has the details):
- Query parameters: pushAccountReceipts (joined by the requestor's separator, "," by default), callbackURL,
  completeIssuerAppActivation, completeWebsiteActivation, accountHolderDataSupplied, locale,
  tokenRequestorSessionId, and the JWS in the requestor's signature parameter ("signature" by default).
- With a JWS, every one of those parameters must equal the signed payload, and no signed field may be left out;
  a parameter given twice is refused. Requestors that support signatures refuse a redirect without one.
- Each receipt is redeemed once with the sandbox's MDES state when the person decides; unknown, expired and used
  receipts are refused visibly.
- The return is a 303 to callbackURL with one `results[<receipt>]=<CODE>` parameter per receipt.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, abort, g, render_template, request
from werkzeug.datastructures import MultiDict

from sandbox.crypto import JwsError, jws_verify
from sandbox.fixtures import SimulatedTokenRequestor
from sandbox.logos import logo_png, logo_svg
from sandbox.state import current_state as state
from sandbox.validation import MAX_PUSHED_ACCOUNTS, SIGNATURE_BOOLEAN_FIELDS, SIGNATURE_FIELDS

blueprint = Blueprint("token_requestors", __name__)

RECEIPTS_PARAMETER = "pushAccountReceipts"
RESULT_CODES = ("APPROVED", "DECLINED", "CANCELLED", "ERROR", "DUPLICATE_REQUEST", "REQUIRE_ADDITIONAL_AUTHENTICATION")
DECISIONS = (
    ("APPROVED", "Approve: add the card"),
    ("DECLINED", "Decline"),
    ("CANCELLED", "Cancel"),
    ("DUPLICATE_REQUEST", "Already added (duplicate)"),
    ("REQUIRE_ADDITIONAL_AUTHENTICATION", "Require additional authentication"),
    ("ERROR", "Simulate an error"),
)
PLATFORMS = {"push": "website", "android": "Android app", "ios": "iOS app"}
_FORBIDDEN_CALLBACK_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})


@dataclass
class RedirectReading:
    receipts: tuple[str, ...] = ()
    callback_url: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    signature_verified: bool = False
    problems: list[str] = field(default_factory=list)


def append_query(url: str, pairs: Iterable[tuple[str, str]]) -> str:
    """`url` with the pairs added to its query, whether or not it already had one (the fragment is kept)."""
    parts = urlsplit(url)
    extra = urlencode(list(pairs), quote_via=quote)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def receipt_hint(receipt: str) -> str:
    return f"{receipt[:3]}…{receipt[-4:]}"


def _origin_source(url: str) -> str:
    """A CSP source expression for the place `url` points to."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def _signed_value_problems(
    payload: Mapping[str, Any], args: MultiDict[str, str], receipts: tuple[str, ...]
) -> list[str]:
    problems = []
    if payload.get(RECEIPTS_PARAMETER) != list(receipts):
        problems.append("The receipts in the address differ from the signed receipts.")
    for name in SIGNATURE_FIELDS:
        signed, given = name in payload, name in args
        if signed and not given:
            problems.append(f"The signed value {name} is missing from the address.")
        elif given and not signed:
            problems.append(f"The value {name} in the address is not covered by the signature.")
        elif signed:
            expected = payload[name]
            actual = args[name]
            if name in SIGNATURE_BOOLEAN_FIELDS:
                matches = isinstance(expected, bool) and actual.lower() == str(expected).lower()
            else:
                matches = actual == expected
            if not matches:
                problems.append(f"The value {name} in the address differs from the signed value.")
    return problems


def read_redirect(token_requestor: SimulatedTokenRequestor, args: MultiDict[str, str]) -> RedirectReading:
    reading = RedirectReading()
    for name in (RECEIPTS_PARAMETER, *SIGNATURE_FIELDS, token_requestor.signature_param_name):
        if len(args.getlist(name)) > 1:
            reading.problems.append(f"The parameter {name} appears more than once.")
    raw_receipts = args.get(RECEIPTS_PARAMETER, "")
    reading.receipts = tuple(raw_receipts.split(token_requestor.receipts_separator)) if raw_receipts else ()
    limit = MAX_PUSHED_ACCOUNTS if token_requestor.supports_multiple_pushed_cards else 1
    if not reading.receipts or not all(reading.receipts):
        reading.problems.append(f"No push account receipt was passed in {RECEIPTS_PARAMETER}.")
    elif len(reading.receipts) > limit:
        reading.problems.append(f"This token requestor accepts at most {limit} receipt(s) at once.")
    token = args.get(token_requestor.signature_param_name)
    if token:
        try:
            payload = jws_verify(token, public_key=state().jws_public_key, kid=state().config.keys.jws_kid)
        except JwsError as exc:
            reading.problems.append(f"The signature is not valid: {exc}.")
        else:
            mismatches = _signed_value_problems(payload, args, reading.receipts)
            reading.problems += mismatches
            reading.signature_verified = not mismatches
    elif token_requestor.supports_signature:
        reading.problems.append(
            f"This token requestor needs the signature MDES returned, in the {token_requestor.signature_param_name} "
            "parameter; none was passed."
        )
    callback = args.get("callbackURL")
    if callback is not None:
        scheme = urlsplit(callback).scheme.lower()
        if not scheme or scheme in _FORBIDDEN_CALLBACK_SCHEMES:
            reading.problems.append("The callbackURL is not an absolute URL this page may return to.")
        else:
            reading.callback_url = callback
    reading.values = {name: args[name] for name in SIGNATURE_FIELDS if name in args and name != "callbackURL"}
    return reading


def _html_lang(locale: str | None) -> str:
    return locale.replace("_", "-") if locale else "en"


def _page(template: str, status: int, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _problem_page(
    token_requestor: SimulatedTokenRequestor | None,
    problems: list[str],
    status: int,
    *,
    return_url: str | None = None,
    lang: str = "en",
) -> Response:
    return _page(
        "tr_problem.html",
        status,
        token_requestor=token_requestor,
        problems=problems,
        return_url=return_url,
        portal_origin=state().config.portal_origin,
        lang=lang,
    )


def _error_return_url(callback_url: str | None, receipts: tuple[str, ...]) -> str | None:
    if not callback_url:
        return None
    return append_query(callback_url, [(f"results[{receipt}]", "ERROR") for receipt in receipts])


@blueprint.get("/tr/<trid>/<platform>")
def push_page(trid: str, platform: str) -> Response:
    if platform not in PLATFORMS:
        abort(404)
    sandbox_state = state()
    token_requestor = sandbox_state.token_requestor(trid)
    if token_requestor is None or not token_requestor.in_token_connect:
        return _problem_page(None, [f"There is no simulated Token Connect requestor {trid}."], 404)
    reading = read_redirect(token_requestor, request.args)
    lang = _html_lang(reading.values.get("locale"))
    if reading.problems:
        # Nothing in an altered or unsigned request is trusted, the callback URL least of all.
        return _problem_page(token_requestor, reading.problems, 400, lang=lang)
    receipt_problems = sandbox_state.receipt_problems(reading.receipts, trid)
    if receipt_problems:
        messages = [f"Receipt {receipt_hint(r)} is {why}." for r, why in receipt_problems.items()]
        return_url = _error_return_url(reading.callback_url, reading.receipts)
        return _problem_page(token_requestor, messages, 409, return_url=return_url, lang=lang)
    session = sandbox_state.open_session(trid, reading.receipts, reading.callback_url)
    if reading.callback_url:
        g.form_targets = [_origin_source(reading.callback_url)]
    cards = []
    for receipt in reading.receipts:
        record = sandbox_state.receipt(receipt)
        cards.append({"hint": receipt_hint(receipt), "suffix": record.account_suffix if record else "????"})
    return _page(
        "tr_push.html",
        200,
        token_requestor=token_requestor,
        platform=PLATFORMS[platform],
        session_id=session.id,
        cards=cards,
        reading=reading,
        decisions=DECISIONS,
        lang=lang,
    )


def _results_from_form(form: MultiDict[str, str], receipts: tuple[str, ...]) -> dict[str, str] | None:
    decision = form.get("decision", "")
    if decision not in RESULT_CODES:
        return None
    results = {}
    for index, receipt in enumerate(receipts):
        override = form.get(f"result-{index}", "")
        if override and override not in RESULT_CODES:
            return None
        results[receipt] = override or decision
    return results


@blueprint.post("/tr/<trid>/decision")
def decision(trid: str) -> Response:
    sandbox_state = state()
    token_requestor = sandbox_state.token_requestor(trid)
    session = sandbox_state.close_session(request.form.get("session", ""), trid)
    if token_requestor is None or session is None:
        return _problem_page(token_requestor, ["This page was already submitted, or it was never opened."], 409)
    results = _results_from_form(request.form, session.receipts)
    if results is None:
        return _problem_page(token_requestor, ["The form was submitted with an unknown decision."], 400)
    problems = sandbox_state.redeem(results, trid)
    if problems:
        messages = [f"Receipt {receipt_hint(r)} is {why}." for r, why in problems.items()]
        return_url = _error_return_url(session.callback_url, session.receipts)
        return _problem_page(token_requestor, messages, 409, return_url=return_url)
    if session.callback_url:
        target = append_query(session.callback_url, [(f"results[{r}]", code) for r, code in results.items()])
        return Response(status=303, headers={"Location": target})
    summary = [{"hint": receipt_hint(receipt), "result": code} for receipt, code in results.items()]
    return _page("tr_done.html", 200, token_requestor=token_requestor, results=summary, lang="en")


@blueprint.get("/tr/<trid>/logo.<extension>")
def logo(trid: str, extension: str) -> Response:
    token_requestor = state().token_requestor(trid)
    if token_requestor is None or extension not in ("svg", "png"):
        abort(404)
    if extension == "png":
        return Response(logo_png(token_requestor.logo), mimetype="image/png")
    return Response(logo_svg(token_requestor.logo, token_requestor.consumer_facing_name), mimetype="image/svg+xml")


@blueprint.after_request
def security_headers(response: Response) -> Response:
    """CSP-friendly pages: no scripts at all, same-origin styles and images, forms only to known places."""
    targets = ["'self'", *getattr(g, "form_targets", [])]
    portal_origin = state().config.portal_origin
    if portal_origin:
        targets.append(portal_origin)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action {' '.join(dict.fromkeys(targets))}; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the address holds receipts
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
