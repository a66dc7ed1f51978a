"""admission: a start's Books are resolved on arrival; a failure is a bounded rejected event."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from jarvis.bdk import Book, BookContext
from jarvis.books import BookRegistry
from jarvis.contract.messages import StartCommand
from jarvis.worker.admission import MAX_REASON, admit, clip, rejected

kv = Book("kvtest", description="admission test Book")
http = Book("httptest", description="admission test Book")


@kv.procedure
def get(ctx: BookContext, key: str) -> str:
    return key


class NeedsToken(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JARVIS_TEST_ADMISSION_")
    token: str


configured = Book("needsconfig", config=NeedsToken)


@pytest.fixture
def books(monkeypatch: pytest.MonkeyPatch) -> BookRegistry:
    monkeypatch.delenv("JARVIS_TEST_ADMISSION_TOKEN", raising=False)
    registry = BookRegistry()
    registry.register(kv)
    registry.register(http)
    registry.register(configured)
    return registry


def command(books: list[str], execution_id: str = "exec-1") -> StartCommand:
    return StartCommand(
        execution_id=execution_id,
        program={"source": "result = 1"},
        books=books,
        labels={"team": "x"},
    )


def test_known_books_are_admitted(books: BookRegistry) -> None:
    assert admit(command(["kvtest", "httptest"]), books, "w-1") is None
    assert admit(command([]), books, "w-1") is None


def test_an_unknown_book_is_rejected_with_an_event(books: BookRegistry) -> None:
    cmd = command(["kvtest", "crm"])
    decision = admit(cmd, books, "w-1")
    assert decision is not None
    assert decision.command is cmd
    event = decision.event
    assert event.event == "rejected"
    assert event.execution_id == "exec-1"
    assert event.worker == "w-1"
    assert event.log_records == 0
    assert event.labels == {"team": "x"}
    assert event.error is not None
    assert event.error.type == "UnknownBook"
    assert "unknown Book 'crm'" in event.error.message
    assert "known Books: httptest, kvtest, needsconfig" in event.error.message
    assert event.error.traceback == f"UnknownBook: {event.error.message}"


def test_a_misconfigured_book_is_rejected_too(books: BookRegistry) -> None:
    decision = admit(command(["needsconfig"]), books, "w-1")
    assert decision is not None
    assert decision.event.error is not None
    assert "misconfigured" in decision.event.error.message
    assert "JARVIS_TEST_ADMISSION_" in decision.event.error.message


def test_ten_thousand_unknown_books_give_a_bounded_message(books: BookRegistry) -> None:
    names = [f"book{i:05d}" for i in range(10_000)]
    decision = admit(command(names), books, "w-1")
    assert decision is not None
    error = decision.event.error
    assert error is not None
    assert error.message.startswith("unknown Books 'book00000', 'book00001'")
    assert len(error.message) <= MAX_REASON + 50
    assert "more" in error.message  # the rest is counted, not listed
    assert len(error.traceback) <= MAX_REASON + 50 + len("UnknownBook: ")
    assert len(decision.event.model_dump_json()) < 3 * MAX_REASON


def test_clip_keeps_short_text_and_says_how_much_it_cut() -> None:
    assert clip("abc", limit=3) == "abc"
    assert clip("", limit=0) == ""
    assert clip("abcdef", limit=3) == "abc... [3 more characters]"
    assert clip("x" * 5000, limit=10) == "x" * 10 + "... [4,990 more characters]"
    assert clip("y" * MAX_REASON) == "y" * MAX_REASON
    assert clip("y" * (MAX_REASON + 1)) == "y" * MAX_REASON + "... [1 more characters]"


def test_rejected_clips_and_copies_the_command() -> None:
    cmd = command(["a"], execution_id="exec-9")
    decision = rejected(cmd, "w-2", "ForbiddenRef", "z" * (MAX_REASON + 10))
    assert decision.command is cmd
    assert decision.event.execution_id == "exec-9"
    assert decision.event.worker == "w-2"
    assert decision.event.labels == {"team": "x"}
    assert decision.event.error is not None
    assert decision.event.error.type == "ForbiddenRef"
    assert decision.event.error.message == "z" * MAX_REASON + "... [10 more characters]"
    assert decision.event.error.traceback == "ForbiddenRef: " + decision.event.error.message
