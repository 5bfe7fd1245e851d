"""The simulated token requestors' push pages: what a wallet or merchant does with the issuer's redirect.

Conventions (sandbox/README.md has the details), those of the token requestor guide:
- With a JWS, it comes alone in the requestor's signature parameter (`pushAccountData` by default) and everything
  is read from its payload. Plain parameters next to it (the older convention) must equal the signed payload, and
  then no signed field may be left out.
- Without one: pushAccountReceipts (joined by the requestor's separator, "," by default), callbackURL,
  callbackRequired, completeIssuerAppActivation, completeWebsiteActivation, accountHolderDataSupplied, locale,
  tokenRequestorSessionId. A parameter given twice is refused; requestors that support signatures refuse a redirect
  without one.
- Each receipt is redeemed once with the sandbox's MDES state when the person decides; unknown, expired and used
  receipts are refused visibly. An approval (or one awaiting authentication) creates the token in the sandbox's
  MDES (the Customer Service API sees it).
- The return is a 303 to callbackURL with one `results[<receipt>]=<CODE>` parameter per receipt,
  `|<tokenUniqueReference>` appended when a token exists.
- When the sandbox knows the issuer's services, tokenizing with a receipt asks the issuer first
  (sandbox/push_tokenization.py), and the issuer's decision wins over the person's choice.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from sandbox.crypto import JwsError, jws_verify
from sandbox.fixtures import SimulatedTokenRequestor
from sandbox.issuer_services import Device
from sandbox.logos import logo_png, logo_svg
from sandbox.push_tokenization import TOKENIZING_CHOICES, enrolment_results, tokenize_with_issuer
from sandbox.state import current_state as state
from sandbox.validation import MAX_PUSHED_ACCOUNTS, SIGNATURE_BOOLEAN_FIELDS, SIGNATURE_FIELDS
from sandbox.wallet_pages import RECOMMENDATIONS, SCORES

blueprint = Blueprint("token_requestors", __name__)

RECEIPTS_PARAMETER = "pushAccountReceipts"
RESULT_CODES = (
    "APPROVED",
    "DECLINED",
    "CANCELLED",
    "ERROR",
    "DUPLICATE_REQUEST",
    "REQUIRE_ADDITIONAL_AUTHENTICATION",
    "AUTHENTICATED",
    "DELETED",
)
# Results whose callback carries the token unique reference (the guide; AUTHENTICATED and DELETED from merchants).
TOKEN_RESULTS = frozenset({"APPROVED", "REQUIRE_ADDITIONAL_AUTHENTICATION", "AUTHENTICATED", "DELETED"})
_MERCHANT_RESULTS = frozenset({"AUTHENTICATED", "DELETED"})
DECISIONS = (
    ("APPROVED", "Approve: add the card"),
    ("DECLINED", "Decline"),
    ("CANCELLED", "Cancel"),
    ("DUPLICATE_REQUEST", "Already added (duplicate)"),
    ("REQUIRE_ADDITIONAL_AUTHENTICATION", "Require additional authentication"),
    ("ERROR", "Simulate an error"),
)
MERCHANT_DECISIONS = (
    ("AUTHENTICATED", "Add and authenticate the cardholder"),
    ("DELETED", "Authentication failed: delete the token"),
)
PLATFORMS = {"push": "website", "android": "Android app", "ios": "iOS app"}
# The device a wallet's token lives on, by push page: (DeviceName, DeviceType).
DEVICES = {
    "push": ("Web browser (sandbox)", "25"),
    "android": ("Pixel 9 (sandbox)", "21"),
    "ios": ("iPhone (sandbox)", "21"),
}
CALLBACK_REQUIRED_PARAMETER = "callbackRequired"
# Pages of requestors with their own behaviour (SimulatedTokenRequestor.experience), registered by their modules:
# given the requestor and the checked redirect, they take over once the receipts are known to be usable.
ExperiencePage = Callable[[SimulatedTokenRequestor, "RedirectReading", str], Response]
EXPERIENCE_PAGES: dict[str, ExperiencePage] = {}
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


def allow_return_to(callback_url: str | None) -> None:
    """The callback's origin as a form target: the page's forms answer with a redirect there."""
    if callback_url:
        g.form_targets = [_origin_source(callback_url)]


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


def _signed_only(payload: Mapping[str, Any]) -> MultiDict[str, str]:
    """The payload of a JWS that came alone, as the parameters it stands for."""
    receipts = payload.get(RECEIPTS_PARAMETER)
    values: MultiDict[str, str] = MultiDict()
    if isinstance(receipts, list) and all(isinstance(receipt, str) for receipt in receipts):
        values[RECEIPTS_PARAMETER] = ",".join(receipts)
    for name in SIGNATURE_FIELDS:
        if name in payload:
            value = payload[name]
            values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


def read_redirect(token_requestor: SimulatedTokenRequestor, args: MultiDict[str, str]) -> RedirectReading:
    reading = RedirectReading()
    names = (RECEIPTS_PARAMETER, *SIGNATURE_FIELDS, CALLBACK_REQUIRED_PARAMETER, token_requestor.signature_param_name)
    for name in names:
        if len(args.getlist(name)) > 1:
            reading.problems.append(f"The parameter {name} appears more than once.")
    token = args.get(token_requestor.signature_param_name)
    payload: dict[str, Any] | None = None
    if token:
        try:
            payload = jws_verify(token, public_key=state().jws_public_key, kid=state().config.keys.jws_kid)
        except JwsError as exc:
            reading.problems.append(f"The signature is not valid: {exc}.")
    separator = token_requestor.receipts_separator
    if payload is not None and RECEIPTS_PARAMETER not in args:
        # The guide's form: the JWS alone, everything read from what MDES signed.
        args, separator = _signed_only(payload), ","
    raw_receipts = args.get(RECEIPTS_PARAMETER, "")
    reading.receipts = tuple(raw_receipts.split(separator)) if raw_receipts else ()
    limit = MAX_PUSHED_ACCOUNTS if token_requestor.supports_multiple_pushed_cards else 1
    if not reading.receipts or not all(reading.receipts):
        reading.problems.append(f"No push account receipt was passed in {RECEIPTS_PARAMETER}.")
    elif len(reading.receipts) > limit:
        reading.problems.append(f"This token requestor accepts at most {limit} receipt(s) at once.")
    if payload is not None:
        mismatches = _signed_value_problems(payload, args, reading.receipts)
        reading.problems += mismatches
        reading.signature_verified = not mismatches
    elif token:
        pass  # the invalid signature is already reported
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
    if CALLBACK_REQUIRED_PARAMETER in args:
        reading.values[CALLBACK_REQUIRED_PARAMETER] = args[CALLBACK_REQUIRED_PARAMETER]
    return reading


def _html_lang(locale: str | None) -> str:
    return locale.replace("_", "-") if locale else "en"


def html_page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def problem_page(
    token_requestor: SimulatedTokenRequestor | None,
    problems: list[str],
    status: int,
    *,
    return_url: str | None = None,
    lang: str = "en",
) -> Response:
    return html_page(
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
        return problem_page(None, [f"There is no simulated Token Connect requestor {trid}."], 404)
    reading = read_redirect(token_requestor, request.args)
    lang = _html_lang(reading.values.get("locale"))
    if reading.problems:
        # Nothing in an altered or unsigned request is trusted, the callback URL least of all.
        return problem_page(token_requestor, reading.problems, 400, lang=lang)
    receipt_problems = sandbox_state.receipt_problems(reading.receipts, trid)
    if receipt_problems:
        messages = [f"Receipt {receipt_hint(r)} is {why}." for r, why in receipt_problems.items()]
        return_url = _error_return_url(reading.callback_url, reading.receipts)
        return problem_page(token_requestor, messages, 409, return_url=return_url, lang=lang)
    if token_requestor.experience in EXPERIENCE_PAGES:
        return EXPERIENCE_PAGES[token_requestor.experience](token_requestor, reading, lang)
    session = sandbox_state.open_session(
        trid,
        reading.receipts,
        reading.callback_url,
        platform,
        complete_website_activation=reading.values.get("completeWebsiteActivation", "true").lower() != "false",
    )
    allow_return_to(reading.callback_url)
    cards = []
    for receipt in reading.receipts:
        record = sandbox_state.receipt(receipt)
        cards.append({"hint": receipt_hint(receipt), "suffix": record.account_suffix if record else "????"})
    return html_page(
        "tr_push.html",
        200,
        token_requestor=token_requestor,
        platform=PLATFORMS[platform],
        session_id=session.id,
        cards=cards,
        reading=reading,
        decisions=DECISIONS + (MERCHANT_DECISIONS if token_requestor.requestor_type == "MERCHANT" else ()),
        asks_issuer=sandbox_state.issuer_client() is not None,
        recommendations=RECOMMENDATIONS,
        scores=SCORES,
        lang=lang,
    )


def _issuer_device(token_requestor: SimulatedTokenRequestor, platform: str) -> Device | None:
    """The device MDES names to the issuer: a wallet's; a merchant keeps the card on file, on no device."""
    if token_requestor.requestor_type != "WALLET":
        return None
    name, iso_type = DEVICES.get(platform, DEVICES["push"])
    if platform == "push":
        return Device(name, "PC", "OTHER", iso_type)
    return Device(name, "PHONE", platform.upper(), iso_type)


def _decisioning(form: MultiDict[str, str]) -> dict[str, str] | None:
    """The wallet's own assessment (walletProviderDecisioningInfo) the person chose on the page, if any."""
    values = {
        "recommendedDecision": form.get("recommendation", ""),
        "deviceScore": form.get("device_score", ""),
        "accountScore": form.get("account_score", ""),
    }
    if values["recommendedDecision"] not in RECOMMENDATIONS or {values["deviceScore"], values["accountScore"]} - set(
        SCORES
    ):
        return None
    chosen = {name: value for name, value in values.items() if value}
    return chosen or None


def _results_from_form(
    form: MultiDict[str, str], receipts: tuple[str, ...], token_requestor: SimulatedTokenRequestor
) -> dict[str, str] | None:
    allowed = set(RESULT_CODES) - (set() if token_requestor.requestor_type == "MERCHANT" else _MERCHANT_RESULTS)
    decision = form.get("decision", "")
    if decision not in allowed:
        return None
    results = {}
    for index, receipt in enumerate(receipts):
        override = form.get(f"result-{index}", "")
        if override and override not in allowed:
            return None
        results[receipt] = override or decision
    return results


@blueprint.post("/tr/<trid>/decision")
def decision(trid: str) -> Response:
    sandbox_state = state()
    token_requestor = sandbox_state.token_requestor(trid)
    session = sandbox_state.close_session(request.form.get("session", ""), trid)
    if token_requestor is None or session is None:
        return problem_page(token_requestor, ["This page was already submitted, or it was never opened."], 409)
    results = _results_from_form(request.form, session.receipts, token_requestor)
    if results is None:
        return problem_page(token_requestor, ["The form was submitted with an unknown decision."], 400)
    problems = sandbox_state.redeem(results, trid)
    if problems:
        messages = [f"Receipt {receipt_hint(r)} is {why}." for r, why in problems.items()]
        return_url = _error_return_url(session.callback_url, session.receipts)
        return problem_page(token_requestor, messages, 409, return_url=return_url)
    device_name, device_type = DEVICES.get(session.platform, DEVICES["push"])
    client = sandbox_state.issuer_client()
    values = {}
    walking = None
    for receipt, code in results.items():
        if client is not None and code in TOKENIZING_CHOICES:
            word = tokenize_with_issuer(
                client,
                receipt,
                code,
                token_requestor=token_requestor,
                device=_issuer_device(token_requestor, session.platform),
                decisioning=_decisioning(request.form),
                complete_website_activation=session.complete_website_activation,
                may_walk_through_methods=len(results) == 1,
            )
            values[receipt] = f"{word.code}|{word.token_unique_reference}" if word.token_unique_reference else word.code
            walking = word.enrolment or walking
        elif code in TOKEN_RESULTS:
            token = sandbox_state.tokenize(receipt, code, device_name=device_name, device_type=device_type)
            values[receipt] = f"{code}|{token.token_unique_reference}"
        else:
            if code == "DUPLICATE_REQUEST":
                sandbox_state.token_already_there(receipt, device_name=device_name, device_type=device_type)
            values[receipt] = code
    if walking is not None:
        # The person proves it is them first (the issuer's activation methods); the page then leads back.
        (receipt,) = results  # only a single pushed card is walked through the methods
        if session.callback_url:
            walking.return_urls = {
                ending: append_query(session.callback_url, [(f"results[{receipt}]", result)])
                for ending, result in enrolment_results(walking).items()
            }
        sandbox_state.add_enrolment(walking)
        return Response(status=303, headers={"Location": url_for("wallet.enrolment_page", enrolment_id=walking.id)})
    if session.callback_url:
        target = append_query(session.callback_url, [(f"results[{r}]", value) for r, value in values.items()])
        return Response(status=303, headers={"Location": target})
    summary = [{"hint": receipt_hint(receipt), "result": code} for receipt, code in results.items()]
    return html_page("tr_done.html", 200, token_requestor=token_requestor, results=summary, lang="en")


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
