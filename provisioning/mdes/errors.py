"""What can go wrong talking to MDES, split by what the caller should do about it.

- MdesApplicationError: MDES refused the input (`errors[]`); retrying the same request will not help.
- MdesGatewayError: Mastercard's API gateway refused the call (`Errors.Error[]`: signature, keys, clock).
- MdesUnavailable: 5xx, 429, timeout or connection failure; retryable (the task layer decides when).
- MdesProtocolError: an answer that cannot be understood or contradicts the request.
- MdesConfigurationError: the portal cannot build a client (no active configuration, unreadable keys).
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


class MdesProtocolError(MdesError):
    pass


class MdesConfigurationError(MdesError):
    pass
