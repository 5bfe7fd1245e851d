from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.base.forms import AuthenticateForm
from django.core.exceptions import ValidationError

from users.lockout import second_factor_failure_record, second_factor_success_record
from users.views import second_factor_locked_page


class SignInCodeForm(AuthenticateForm):
    """allauth's code form of the sign-in's second step, under the second-factor lockout (`users.lockout`)."""

    def clean_code(self) -> str:
        request = context.request
        refusal = second_factor_locked_page(request, self.user)
        if refusal is not None:
            raise ImmediateHttpResponse(refusal)  # allauth's middleware answers with it; the code is never checked
        try:
            code: str = super().clean_code()
        except ValidationError:
            second_factor_failure_record(request, self.user)
            raise
        second_factor_success_record(request, self.user)
        return code
