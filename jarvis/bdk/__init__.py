"""The Book Development Kit: what a Book author imports.

    from jarvis.bdk import Book, BookContext, NotFound, RetryPolicy

    book = Book("crm", description="Customer records")

    @book.procedure(timeout_s=5, retry=RetryPolicy(max_attempts=3))
    def lookup(ctx: BookContext, email: str) -> dict[str, str]:
        ...

Then point a ``jarvis.books`` entry point at ``book`` (see docs/books.md).
Other people's code imports these names: changing them is a breaking change.
"""

from jarvis.bdk.book import DEFAULT_TIMEOUT_S, Book, Procedure
from jarvis.bdk.context import BookContext
from jarvis.bdk.errors import (
    AuthError,
    InvalidInput,
    NonRetryable,
    NotFound,
    ProcedureError,
    Retryable,
    Timeout,
    Unavailable,
)
from jarvis.bdk.retries import RetryPolicy, RetrySettings

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "AuthError",
    "Book",
    "BookContext",
    "InvalidInput",
    "NonRetryable",
    "NotFound",
    "Procedure",
    "ProcedureError",
    "RetryPolicy",
    "RetrySettings",
    "Retryable",
    "Timeout",
    "Unavailable",
]
