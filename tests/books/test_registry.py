"""BookRegistry: discovery through entry points, resolution with errors that teach, config."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator

import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from jarvis.bdk import Book, BookContext
from jarvis.books import BookRegistry
from jarvis.errors import BookUnavailable, JarvisError
from tests.helpers.books import Recorder, call

fake = Book("fake", description="a Book for registry tests")


@fake.procedure
def ping(ctx: BookContext) -> str:
    return "pong"


not_a_book = object()


def _entry_points(*specs: tuple[str, str]) -> list[importlib.metadata.EntryPoint]:
    return [importlib.metadata.EntryPoint(name=n, value=v, group="jarvis.books") for n, v in specs]


@pytest.fixture
def fake_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[importlib.metadata.EntryPoint]]:
    found: list[importlib.metadata.EntryPoint] = []
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda group: list(found) if group == "jarvis.books" else [],
    )
    yield found


def test_discover_finds_the_shipped_books() -> None:
    reg = BookRegistry.discover()
    assert {"http", "kv"} <= set(reg.names)
    assert {"http", "kv"} <= set(BookRegistry().load_entry_points())
    assert reg.procedures(["kv", "http"]) == {"kv": ["get", "incr", "put"], "http": ["get", "post"]}


def test_resolve_names_unknown_books_and_lists_known_ones() -> None:
    reg = BookRegistry()
    reg.register(fake)
    with pytest.raises(BookUnavailable) as err:
        reg.resolve(["fake", "crm", "mail"])
    msg = str(err.value)
    assert "unknown Books 'crm', 'mail'" in msg
    assert "known Books: fake" in msg
    assert "jarvis.books" in msg  # says what to do: install an entry point
    assert err.value.book == "crm"
    assert isinstance(err.value, JarvisError)


def test_ten_thousand_unknown_books_make_a_short_reason() -> None:
    """The reason goes into a rejected event (message and traceback): list a few names."""
    reg = BookRegistry()
    reg.register(fake)
    with pytest.raises(BookUnavailable) as err:
        reg.resolve([f"no_such_book_{i:05d}_" + "x" * 80 for i in range(10_000)])
    msg = str(err.value)
    assert len(msg) < 2000, len(msg)
    assert "and 9,990 more" in msg
    assert "no_such_book_00000_" in msg and "no_such_book_00010_" not in msg
    assert "known Books: fake)" in msg
    assert err.value.book is not None and err.value.book.startswith("no_such_book_00000_")


def test_resolve_returns_books_in_order_without_duplicates() -> None:
    reg = BookRegistry()
    reg.register(fake)
    assert reg.resolve(["fake", "fake"]) == {"fake": fake}
    assert reg.resolve([]) == {}


def test_broken_entry_points_are_reported_to_those_who_ask(
    fake_entry_points: list[importlib.metadata.EntryPoint],
) -> None:
    fake_entry_points.extend(
        _entry_points(
            ("fake", "tests.books.test_registry:fake"),
            ("gone", "no_such_module_xyz:book"),
            ("odd", "tests.books.test_registry:not_a_book"),
            ("store", "tests.books.test_registry:fake"),
        )
    )
    reg = BookRegistry()
    assert reg.load_entry_points() == ["fake"]
    assert reg.resolve(["fake"]) == {"fake": fake}  # the broken ones do not block it
    with pytest.raises(BookUnavailable, match="failed to load: ModuleNotFoundError"):
        reg.resolve(["gone"])
    with pytest.raises(BookUnavailable, match=r"is a object, not a jarvis\.bdk\.Book"):
        reg.resolve(["odd"])
    with pytest.raises(
        BookUnavailable, match="points to a Book named 'fake'; make the two names equal"
    ):
        reg.resolve(["store"])


def test_two_packages_with_one_book_name_conflict(
    fake_entry_points: list[importlib.metadata.EntryPoint],
) -> None:
    fake_entry_points.extend(
        _entry_points(("fake", "tests.books.test_registry:fake"), ("fake", "other_pkg:book"))
    )
    reg = BookRegistry()
    reg.load_entry_points()
    with pytest.raises(BookUnavailable, match="two packages provide a Book named 'fake'"):
        reg.resolve(["fake"])


def test_register_refuses_a_different_book_under_a_taken_name() -> None:
    reg = BookRegistry()
    reg.register(fake)
    reg.register(fake)  # the same object again is fine
    other = Book("fake")
    with pytest.raises(BookUnavailable, match="replace=True"):
        reg.register(other)
    reg.register(other, replace=True)
    assert reg.resolve(["fake"])["fake"] is other


def test_book_and_procedure_names_must_be_spy_attributes() -> None:
    for bad in ("my-book", "class", "_private", "1st"):
        with pytest.raises(ValueError, match="identifier"):
            Book(bad)
    book = Book("ok")
    with pytest.raises(ValueError, match="identifier"):
        book.procedure(name="import")(lambda ctx: None)
    book.procedure(name="lookup")(lambda ctx: None)
    with pytest.raises(ValueError, match="already has a procedure 'lookup'"):
        book.procedure(name="lookup")(lambda ctx: None)


def test_procedures_need_a_context_and_named_parameters() -> None:
    book = Book("sig")

    def no_ctx() -> None: ...

    with pytest.raises(TypeError, match="first parameter must be the context"):
        book.procedure(no_ctx)
    with pytest.raises(TypeError, match=r"\*args/\*\*kwargs"):

        @book.procedure
        def spread(ctx: BookContext, *items: int) -> None: ...


def test_procedure_metadata() -> None:
    book = Book("meta")

    @book.procedure(timeout_s=3)
    def lookup(ctx: BookContext, email: str) -> str:
        """Find a customer by e-mail.

        More detail that is not part of the summary.
        """
        return email

    proc = book.procedures["lookup"]
    assert (proc.name, proc.qualname, proc.timeout_s) == ("lookup", "meta.lookup", 3)
    assert proc.description == "Find a customer by e-mail."
    assert lookup(None, "a@b") == "a@b"  # type: ignore[arg-type]  # still a plain function


class CfgSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JARVIS_BOOK_CFGTEST_")
    endpoint: str
    retries: int = 1


cfg_book = Book("cfgtest", config=CfgSettings)


@cfg_book.procedure
def endpoint(ctx: BookContext[CfgSettings]) -> str:
    return f"{ctx.config.endpoint}/{ctx.config.retries}"


def test_config_is_read_from_the_environment_when_resolved(
    monkeypatch: pytest.MonkeyPatch, rec: Recorder
) -> None:
    monkeypatch.setenv("JARVIS_BOOK_CFGTEST_ENDPOINT", "https://crm")
    monkeypatch.setenv("JARVIS_BOOK_CFGTEST_RETRIES", "4")
    reg = BookRegistry()
    reg.register(cfg_book)
    reg.resolve(["cfgtest"])
    monkeypatch.setenv("JARVIS_BOOK_CFGTEST_ENDPOINT", "https://changed")  # read once, at the edge
    assert call(reg, rec, "cfgtest.endpoint") == "https://crm/4"


def test_misconfiguration_fails_resolve_with_the_variables_to_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JARVIS_BOOK_CFGTEST_ENDPOINT", raising=False)
    reg = BookRegistry()
    reg.register(cfg_book)
    with pytest.raises(
        BookUnavailable,
        match=r"Book 'cfgtest' is misconfigured \(check the JARVIS_BOOK_CFGTEST_\* ",
    ):
        reg.resolve(["cfgtest"])


def test_config_given_in_code_skips_the_environment(rec: Recorder) -> None:
    reg = BookRegistry()
    reg.register(cfg_book, config=CfgSettings(endpoint="mem://x"))
    assert call(reg, rec, "cfgtest.endpoint") == "mem://x/1"
    reg2 = BookRegistry(configs={"cfgtest": CfgSettings(endpoint="mem://y", retries=2)})
    reg2.register(cfg_book)
    assert call(reg2, rec, "cfgtest.endpoint") == "mem://y/2"
