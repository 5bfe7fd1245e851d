"""The cardholder's Wallet requests page (what CARDHOLDER_TO_VISIT_WEBSITE points to): the wallet requests that
wait for them, and Approve or Decline after a fresh second factor, as for a push."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from issuer_services.wallet_requests import (
    WalletRequest,
    wallet_request_approve,
    wallet_request_decline,
    wallet_request_of,
    wallet_requests_of,
)
from provisioning.tokens import TokenActor, TokenChangeRefused, TokenChangeUnknown
from users.models import User
from users.step_up import StepUpPurpose, step_up_first, step_up_is_fresh

ANSWERS = ("approve", "decline")


def _to_list() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("wallet_requests:list"))


def _about(wallet_request: WalletRequest) -> str:
    """For the code page: "DemoPay on Pixel 8 wants Everyday Debit •••• 4444"."""
    record = wallet_request.record
    where = wallet_request.wallet_name
    if record.device_name:
        where = gettext("%(name)s on %(device)s") % {"name": where, "device": record.device_name}
    return gettext("%(where)s wants %(card)s") % {"where": where, "card": record.card}


@never_cache
@login_required
@require_GET
def wallet_request_list(request: HttpRequest) -> HttpResponse:
    cardholder = getattr(request.user, "cardholder", None)
    requests = wallet_requests_of(cardholder) if cardholder is not None else []
    return render(
        request,
        "issuer_services/wallet_requests.html",
        {"waiting": [r for r in requests if r.is_waiting], "earlier": [r for r in requests if not r.is_waiting]},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def wallet_request_answer(request: HttpRequest, public_id: str, answer: str) -> HttpResponse:
    """GET: the request and one button (where the code page comes back to); POST: the answer, sent to the network."""
    user = cast(User, request.user)
    cardholder = getattr(user, "cardholder", None)
    wallet_request = wallet_request_of(cardholder, public_id) if cardholder is not None else None
    if wallet_request is None:
        raise Http404("No such wallet request")
    if not wallet_request.is_waiting:
        if request.method == "POST":  # the refusal says why (expired, already answered) and is on record
            _answer(request, user, wallet_request, answer)
        return _to_list()  # which says what became of it
    if not step_up_is_fresh(request):
        purpose = StepUpPurpose.APPROVE if answer == "approve" else StepUpPurpose.DECLINE
        return step_up_first(request, come_back_to=request.path, about=[_about(wallet_request)], purpose=purpose)
    if request.method == "GET":
        return render(
            request, "issuer_services/wallet_request_answer.html", {"request_": wallet_request, "answer": answer}
        )
    _answer(request, user, wallet_request, answer)
    return _to_list()


def _answer(request: HttpRequest, user: User, wallet_request: WalletRequest, answer: str) -> None:
    actor = TokenActor.cardholder(user, request)
    record = wallet_request.record
    words = {"wallet": wallet_request.wallet_name, "card": record.card}
    try:  # every refusal is on record in the services
        if answer == "approve":
            wallet_request_approve(record, actor=actor)
            messages.success(request, gettext("Approved: %(card)s is ready to use in %(wallet)s.") % words)
        else:
            wallet_request_decline(record, actor=actor)
            messages.success(request, gettext("Declined: %(card)s was not added to %(wallet)s.") % words)
    except TokenChangeRefused as refusal:
        messages.error(request, str(refusal))
    except TokenChangeUnknown as unknown:
        messages.warning(request, str(unknown))
