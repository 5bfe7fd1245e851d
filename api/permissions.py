"""Scopes: a cardholder credential sees only that cardholder's cards and pushes; a program manager's key only
its program's cards and their landing links. The selectors in `api.selectors` apply the scope to every query."""

from typing import Any

from django.utils.translation import gettext
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from api.models import ProgramApiKey
from api.problems import Problem
from cardholders.models import Cardholder


class IsCardholder(BasePermission):
    """A signed-in person (session or token) who holds cards here; staff without cards are not cardholders."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers 401 with the view's scheme
        if not Cardholder.objects.filter(user=request.user).exists():
            raise Problem(
                status_code=403,
                code="not_a_cardholder",
                title=gettext("Not a cardholder"),
                detail=gettext("This account holds no cards."),
            )
        return True


class IsProgramManager(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ProgramApiKey)
