"""Book authors import jarvis.bdk and hosts import jarvis.books: changing these names breaks them."""

import jarvis.bdk
import jarvis.books


def test_bdk_exports() -> None:
    assert sorted(jarvis.bdk.__all__) == sorted(
        [
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
    )
    for name in jarvis.bdk.__all__:
        assert hasattr(jarvis.bdk, name)


def test_books_exports() -> None:
    assert sorted(jarvis.books.__all__) == ["Attempt", "BookRegistry", "ENTRY_POINT_GROUP"]
    assert jarvis.books.ENTRY_POINT_GROUP == "jarvis.books"


def test_taxonomy() -> None:
    from jarvis.bdk import (
        AuthError,
        InvalidInput,
        NonRetryable,
        NotFound,
        ProcedureError,
        Retryable,
        Timeout,
        Unavailable,
    )

    for transient in (Unavailable, Timeout):
        assert issubclass(transient, Retryable)
    for permanent in (InvalidInput, AuthError, NotFound):
        assert issubclass(permanent, NonRetryable)
    assert issubclass(Retryable, ProcedureError) and issubclass(NonRetryable, ProcedureError)
    assert not issubclass(Retryable, NonRetryable)
