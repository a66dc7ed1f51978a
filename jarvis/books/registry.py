"""The Books a worker can offer, found through entry points, and the one way to call them.

A start command names the Books its program may use; the worker calls ``resolve`` when the
command arrives, before anything runs, so an unknown, broken or misconfigured Book fails the
execution at once with a reason (CONVENTIONS.md: validate on arrival). During the run the
execution host sends each live (not replayed) Book call to ``call``.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pydantic
from pydantic_settings import BaseSettings

from jarvis.bdk.book import Book, Procedure
from jarvis.bdk.retries import RetryPolicy, RetrySettings
from jarvis.books.calls import Attempt, StopCheck, run_call
from jarvis.errors import BookUnavailable, ProgramError
from jarvis.telemetry import metrics

ENTRY_POINT_GROUP = "jarvis.books"

log = logging.getLogger("jarvis.books")

MAX_LISTED = 10
"""An error lists at most this many Book names (a start asking for 10,000 unknown Books
gets a reason of one line, not 89 kB that no event or dead letter can carry)."""


def _name(name: str) -> str:
    return repr(name) if len(name) <= 64 else repr(name[:63]) + "\u2026"


def _some(names: list[str], quote: bool = True) -> str:
    """The first MAX_LISTED names, then how many more."""
    shown = ", ".join(_name(n) if quote else n for n in names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED:,} more" if len(names) > MAX_LISTED else "")


class BookRegistry:
    """Books by name, their configuration, and the retry defaults; safe to share across threads.

    ``retry_settings`` are the global retry defaults (``JARVIS_BOOK_RETRY_*`` when not given);
    ``configs`` override a Book's settings object by Book name (tests, embedding), otherwise
    a Book's config class reads the environment the first time the Book is resolved.
    """

    def __init__(
        self,
        retry_settings: RetrySettings | None = None,
        configs: dict[str, BaseSettings] | None = None,
    ) -> None:
        self.default_policy = (retry_settings or RetrySettings()).policy()
        self._books: dict[str, Book] = {}
        self._broken: dict[str, str] = {}
        self._configs: dict[str, BaseSettings | None] = dict(configs or {})
        self._policies: dict[tuple[str, str], RetryPolicy] = {}
        self._lock = threading.Lock()

    # --- what is there ---

    @classmethod
    def discover(
        cls,
        retry_settings: RetrySettings | None = None,
        configs: dict[str, BaseSettings] | None = None,
    ) -> BookRegistry:
        """A registry holding every Book installed under the ``jarvis.books`` entry points."""
        registry = cls(retry_settings=retry_settings, configs=configs)
        registry.load_entry_points()
        return registry

    def load_entry_points(self) -> list[str]:
        """Load every Book from the ``jarvis.books`` entry-point group; return the names loaded.

        A Book that fails to load does not stop the others: its failure is kept and reported
        by ``resolve`` to the executions that ask for it (one broken plugin must not take a
        whole worker fleet down). Books already registered in code keep their place.
        """
        loaded: list[str] = []
        seen: dict[str, str] = {}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = f"entry point {ep.name!r} = {ep.value!r}" + (
                f" (from {ep.dist.name})" if ep.dist is not None else ""
            )
            if ep.name in seen and seen[ep.name] != ep.value:
                self._broken[ep.name] = (
                    f"two packages provide a Book named {ep.name!r}: {seen[ep.name]} and {origin}; "
                    "uninstall one"
                )
                self._books.pop(ep.name, None)
                continue
            seen[ep.name] = origin
            if ep.name in self._books:
                continue
            try:
                book = ep.load()
            except Exception as exc:
                self._broken[ep.name] = f"{origin} failed to load: {type(exc).__name__}: {exc}"
                log.warning("Book %r is unusable: %s", ep.name, self._broken[ep.name])
                continue
            if not isinstance(book, Book):
                self._broken[ep.name] = (
                    f"{origin} is a {type(book).__name__}, not a jarvis.bdk.Book"
                )
            elif book.name != ep.name:
                self._broken[ep.name] = (
                    f"{origin} points to a Book named {book.name!r}; make the two names equal"
                )
            else:
                self._books[ep.name] = book
                loaded.append(ep.name)
        return sorted(loaded)

    def register(
        self, book: Book, *, config: BaseSettings | None = None, replace: bool = False
    ) -> Book:
        """Add a Book from code (tests, embedding); ``config`` skips reading the environment."""
        with self._lock:
            current = self._books.get(book.name)
            if current is not None and current is not book and not replace:
                raise BookUnavailable(
                    f"a different Book named {book.name!r} is already registered; "
                    "pass replace=True to swap it",
                    book=book.name,
                )
            self._books[book.name] = book
            self._broken.pop(book.name, None)
            self._policies = {k: v for k, v in self._policies.items() if k[0] != book.name}
            if config is not None:
                self._configs[book.name] = config
            elif current is not None and current is not book:
                self._configs.pop(book.name, None)  # the old Book's settings do not fit the new one
        return book

    @property
    def names(self) -> list[str]:
        """Names of the usable Books."""
        return sorted(self._books)

    def resolve(self, names: Iterable[str]) -> dict[str, Book]:
        """The Books a start command asks for, with their configuration validated.

        Raises ``BookUnavailable`` naming every unknown or unusable Book and listing the known ones.
        """
        wanted = list(dict.fromkeys(names))
        problems = [f"{_name(n)}: {self._broken[n]}" for n in wanted if n in self._broken]
        unknown = [n for n in wanted if n not in self._books and n not in self._broken]
        if unknown:
            problems.insert(
                0,
                f"unknown Book{'s' if len(unknown) > 1 else ''} {_some(unknown)} "
                f"(known Books: {_some(self.names, quote=False) if self.names else 'none'}); install the package "
                f"providing it (a {ENTRY_POINT_GROUP!r} entry point) or fix the start command's books list",
            )
        if problems:
            shown = problems[:MAX_LISTED]
            if len(problems) > MAX_LISTED:
                shown.append(f"and {len(problems) - MAX_LISTED:,} more problems")
            raise BookUnavailable("; ".join(shown), book=(unknown or wanted)[0])
        for name in wanted:
            self._config(name)
        return {name: self._books[name] for name in wanted}

    def procedures(self, names: Iterable[str]) -> dict[str, list[str]]:
        """Book name -> its procedure names, for the namespaces a SPy program sees."""
        return {name: sorted(book.procedures) for name, book in self.resolve(names).items()}

    # --- calling ---

    def call(
        self,
        book: str,
        procedure: str,
        args: list[Any],
        kwargs: dict[str, Any],
        *,
        execution_id: str,
        idempotency_key: str,
        on_attempt: Callable[[Attempt], None] | None = None,
        should_stop: StopCheck | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> object:
        """Call ``book.procedure(*args, **kwargs)`` with retries; return its plain-JSON result.

        Raises ``ProgramError`` (a SPy exception at the call site): ``AttributeError`` for an
        unknown procedure, ``TypeError`` for arguments that do not fit the signature (naming
        the parameter; never retried), ``BookError`` when the last attempt failed
        ("http.get failed after 5 attempts: Unavailable: ..."). Raises ``Stopped`` when
        ``should_stop()`` turns truthy (see ``jarvis.books.calls``), ``BookUnavailable`` (the
        host error) for a Book that is not registered.
        """
        proc = self._procedure(book, procedure)
        # Timed once the procedure is known: its names are the metric's labels, and a name
        # the program made up must not become one.
        started = time.monotonic()
        error_type: str | None = None
        try:
            return run_call(
                proc,
                args,
                kwargs,
                policy=self.policy(book, procedure),
                config=self._config(book),
                execution_id=execution_id,
                idempotency_key=idempotency_key,
                on_attempt=on_attempt,
                should_stop=should_stop,
                sleep=sleep,
            )
        except ProgramError as exc:
            error_type = exc.spy_type
            raise
        except BaseException as exc:
            error_type = type(exc).__name__
            raise
        finally:
            metrics.book_call(book, procedure, error_type, time.monotonic() - started)

    def policy(self, book: str, procedure: str) -> RetryPolicy:
        """The effective retry policy: the procedure's own fields over the global defaults."""
        key = (book, procedure)
        policy = self._policies.get(key)
        if policy is None:
            proc = self._procedure(book, procedure)
            policy = proc.retry.over(self.default_policy) if proc.retry else self.default_policy
            self._policies[key] = policy
        return policy

    # --- internals ---

    def _book(self, name: str) -> Book:
        found = self._books.get(name)
        if found is None:
            self.resolve([name])  # raises the explanatory BookUnavailable
            raise AssertionError("unreachable")
        return found

    def _procedure(self, book: str, procedure: str) -> Procedure:
        b = self._book(book)
        proc = b.procedures.get(procedure)
        if proc is None:
            raise ProgramError(
                "AttributeError",
                f"Book {book!r} has no procedure {procedure!r} "
                f"(it has: {', '.join(sorted(b.procedures)) or 'none'})",
            )
        return proc

    def _config(self, name: str) -> Any:
        if name in self._configs:
            return self._configs[name]
        with self._lock:
            if name not in self._configs:
                book = self._books[name]
                try:
                    self._configs[name] = book.load_config()
                except pydantic.ValidationError as exc:
                    prefix = book.config.model_config.get("env_prefix", "") if book.config else ""
                    raise BookUnavailable(
                        f"Book {name!r} is misconfigured (check the {prefix}* environment "
                        f"variables): {exc}",
                        book=name,
                    ) from exc
            return self._configs[name]
