"""What can go wrong talking to MDES, split by what the caller should do about it.

- MdesApplicationError: MDES refused the input (`errors[]`); retrying the same request will not help.
- MdesGatewayError: Mastercard's API gateway refused the call (`Errors.Error[]`: signature, keys, clock).
- MdesUnavailable: MDES could not take the request (429, a connection that never reached it) or an idempotent read
  (getEligibleTokenRequestors, getAsset) failed with a 5xx, a timeout or a broken connection; retryable (the task
  layer decides when).
- MdesOutcomeUnknown: a push that may have reached MDES lost its answer (read timeout, connection broken after
  sending, 5xx); not retryable, because MDES may already have issued receipts.
- MdesProtocolError: an answer that cannot be understood or contradicts the request.
- MdesConfigurationError: the portal cannot build a client (no active configuration, unreadable keys, a base URL
  whose host is not allowed for the configuration's environment).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    """One error as MDES (`errors[]`) or the gateway (`Errors.Error[]`) reported it."""

    source: str
    reason_code: str
    description: str = ""
    recoverable: bool | None = None
    error_code: str | None = None


class MdesError(Exception):
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, errors: tuple[ErrorDetail, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(error.reason_code for error in self.errors)


class MdesApplicationError(MdesError):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[ErrorDetail, ...] = (),
        response_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, errors=errors)
        self.response_id = response_id


class MdesGatewayError(MdesError):
    pass


class MdesUnavailable(MdesError):  # noqa: N818 - the name says what the caller needs to know: try later
    retryable = True


class MdesOutcomeUnknown(MdesError):  # noqa: N818 - the name says what the caller needs to know
    """The request reached MDES but its answer was lost: MDES may or may not have acted on it.

    Raised for pushMultipleAccounts, which is not idempotent (MDES may already have issued receipts). Do not repeat
    the push; if the cardholder asks again, start a new push (new request and push account ids).
    """

    retryable = False


class MdesProtocolError(MdesError):
    pass


class MdesConfigurationError(MdesError):
    pass
