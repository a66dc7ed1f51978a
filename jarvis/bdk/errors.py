"""The errors Book authors raise to say whether a failure is worth retrying.

Two families: ``Retryable`` (transient: the same call may well succeed later) and
``NonRetryable`` (permanent: repeating the call cannot help). The registry's retry policy
reads these; exceptions outside the taxonomy are classified by ``RetryPolicy``.
None of these reach the SPy program as themselves: after the last attempt the registry
turns the failure into a SPy ``BookError`` whose message names the type and the text.
"""

from __future__ import annotations


class ProcedureError(Exception):
    """Root of the errors a Book procedure raises on purpose."""


class Retryable(ProcedureError):
    """A transient failure; the call is retried per the procedure's ``RetryPolicy``.

    ``retry_after_s`` lets a procedure pass on a server's hint (HTTP ``Retry-After``):
    the next attempt waits at least that long, still bounded by the policy's ``cap_s``.
    """

    def __init__(self, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class NonRetryable(ProcedureError):
    """A permanent failure; the call fails at once without another attempt."""


class Unavailable(Retryable):
    """The remote system is down, overloaded or rate-limiting (HTTP 5xx/429, refused connection)."""


class Timeout(Retryable):
    """The remote system (or the procedure) did not answer in time."""


class InvalidInput(NonRetryable):
    """The remote system rejected the request as malformed (HTTP 400/422, wrong value type)."""


class AuthError(NonRetryable):
    """Not authenticated or not permitted (HTTP 401/403, a URL outside the allow-list)."""


class NotFound(NonRetryable):
    """The thing asked for does not exist (HTTP 404/410)."""
