"""The ``http`` Book: GET and POST to an allow-list of URLs.

    r = http.get("https://api.example.com/v1/items", params={"q": "x"})
    r["status"], r["json"]

Every request carries the call's idempotency key as an ``Idempotency-Key`` header, so a
server that honours it applies a retried or re-run POST once. Status codes map onto the
retry taxonomy: 5xx, 429 and 408 are retryable (honouring ``Retry-After``), other 4xx are not
(404/410 ``NotFound``, 401/403 ``AuthError``, 400/422 ``InvalidInput``); 2xx and 3xx are
returned. Redirects are not followed: a redirect could lead outside the allow-list.

Config (``JARVIS_BOOK_HTTP_*``): ``ALLOW`` is the allow-list, comma-separated; each entry is
a URL prefix (``https://api.example.com/v1/``: same scheme, host and port, path under it) or
a host glob (``api.example.com``, ``*.example.com``, ``127.0.0.1:8080``, ``*``) allowing http
and https to matching hosts. Empty (the default) allows nothing: a program reaches only the
hosts an operator named.
"""

from __future__ import annotations

import email.utils
import fnmatch
import functools
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import orjson
from pydantic import Field, JsonValue, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import TypedDict

from jarvis.bdk import (
    AuthError,
    Book,
    BookContext,
    InvalidInput,
    NonRetryable,
    NotFound,
    Timeout,
    Unavailable,
)

DEFAULT_PORTS = {"http": 80, "https": 443}


class HttpConfig(BaseSettings):
    """Settings of the ``http`` Book (environment: ``JARVIS_BOOK_HTTP_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix="JARVIS_BOOK_HTTP_", extra="ignore", frozen=True)

    allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated URL prefixes or host globs a program may call; empty = none.",
    )
    timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Connect/read/write timeout of one request; below the procedures' 30 s "
        "attempt budget so the HTTP client, not the abandoned thread, ends a slow request.",
    )
    max_response_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest response body accepted: results are journaled and logged, so a "
        "huge body would bloat both. Larger responses fail (not retried).",
    )
    verify_tls: bool = Field(default=True, description="Verify TLS certificates.")
    user_agent: str = Field(default="jarvis-http-book/1", description="User-Agent header sent.")

    @field_validator("allow", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allow")
    @classmethod
    def _check(cls, value: list[str]) -> list[str]:
        for entry in value:
            _Rule.parse(entry)  # raises ValueError naming the bad entry
        return value


class HttpResponse(TypedDict):
    """What ``http.get`` and ``http.post`` return."""

    status: int
    headers: dict[str, str]
    json: JsonValue
    """The body parsed as JSON, or None when it is not JSON."""
    text: str


@dataclass(frozen=True)
class _Rule:
    """One allow-list entry."""

    scheme: str | None  # None: a host glob, any of http/https
    host: str  # lowercase; a glob for host rules
    port: str | None  # a glob for host rules; exact (as text) for URL prefixes
    path: bytes  # raw path prefix of URL prefixes

    @classmethod
    def parse(cls, entry: str) -> _Rule:
        if "://" in entry:
            try:
                url = httpx.URL(entry)
            except httpx.InvalidURL as exc:
                raise ValueError(f"allow-list entry {entry!r} is not a URL: {exc}") from exc
            if url.scheme not in DEFAULT_PORTS or not url.host:
                raise ValueError(f"allow-list entry {entry!r} must be an http(s) URL with a host")
            if url.query or url.fragment:
                raise ValueError(f"allow-list entry {entry!r}: a URL prefix cannot have a query")
            effective_port = url.port or DEFAULT_PORTS[url.scheme]
            return cls(url.scheme, url.host.lower(), str(effective_port), url.raw_path)
        if "/" in entry:
            raise ValueError(
                f"allow-list entry {entry!r} is neither a URL prefix (scheme://host/path) "
                "nor a host glob (host, *.host, host:port)"
            )
        m = re.fullmatch(r"(.+):(\d+|\*)", entry)
        host, port = (m.group(1), m.group(2)) if m else (entry, None)
        return cls(None, host.lower(), port, b"")

    def allows(self, url: httpx.URL) -> bool:
        host = url.host.lower()
        port = str(url.port or DEFAULT_PORTS.get(url.scheme, 0))
        if self.scheme is None:
            return fnmatch.fnmatchcase(host, self.host) and (
                self.port is None or fnmatch.fnmatchcase(port, self.port)
            )
        if (url.scheme, host, port) != (self.scheme, self.host, self.port):
            return False
        # Compare raw (still percent-encoded) paths on a segment boundary: "/v1" allows
        # "/v1" and "/v1/x" but not "/v10", and "%2F.." tricks cannot climb out of a prefix.
        path = url.raw_path.split(b"?", 1)[0]
        prefix = self.path
        if prefix in (b"", b"/") or path == prefix:
            return True
        return path.startswith(prefix if prefix.endswith(b"/") else prefix + b"/")


@functools.lru_cache(maxsize=64)
def _rules(entries: tuple[str, ...]) -> tuple[_Rule, ...]:
    return tuple(_Rule.parse(entry) for entry in entries)


def _allowed(config: HttpConfig, url: httpx.URL) -> bool:
    return any(rule.allows(url) for rule in _rules(tuple(config.allow)))


book = Book(
    "http",
    description="HTTP GET/POST to allow-listed URLs, with the idempotency key as a header.",
    config=HttpConfig,
)


@book.procedure(timeout_s=30.0)
def get(
    ctx: BookContext[HttpConfig],
    url: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str | int | float | bool | list[str | int | float | bool]] | None = None,
) -> HttpResponse:
    """GET ``url``; returns ``{"status", "headers", "json", "text"}``."""
    return _request(ctx, "GET", url, headers=headers, params=params)


@book.procedure(timeout_s=30.0)
def post(
    ctx: BookContext[HttpConfig],
    url: str,
    json: JsonValue = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """POST ``json`` (as a JSON body) to ``url``; returns ``{"status", "headers", "json", "text"}``."""
    return _request(ctx, "POST", url, headers=headers, body=json, has_body=True)


@functools.lru_cache(maxsize=4)
def _client(verify_tls: bool) -> httpx.Client:
    # One pooled client per TLS setting for the whole process (httpx.Client is thread-safe):
    # building one per call would redo the TLS context setup, tens of milliseconds each.
    return httpx.Client(follow_redirects=False, verify=verify_tls)


def _request(
    ctx: BookContext[HttpConfig],
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None,
    params: Any = None,
    body: JsonValue = None,
    has_body: bool = False,
) -> HttpResponse:
    config = ctx.config
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"invalid URL {url!r}: {exc}") from exc
    if target.scheme not in DEFAULT_PORTS or not target.host:
        raise InvalidInput(f"URL {url!r} must be absolute, with an http or https scheme")
    if not _allowed(config, target):
        raise AuthError(
            f"URL {url!r} is not in the http Book's allow-list; an operator can add its prefix "
            "or host to JARVIS_BOOK_HTTP_ALLOW"
        )
    sent = {"User-Agent": config.user_agent, "Idempotency-Key": ctx.idempotency_key}
    sent.update(headers or {})
    timeout = min(config.timeout_s, ctx.timeout_s or config.timeout_s)
    request = _client(config.verify_tls).build_request(
        method,
        target,
        headers=sent,
        params=params,
        json=body if has_body else None,
        timeout=timeout,
    )
    resp = _client(config.verify_tls).send(request, stream=True)
    try:
        data = _read_capped(resp, config.max_response_bytes, method, url)
    finally:
        resp.close()
    text = data.decode(resp.encoding or "utf-8", errors="replace")
    _raise_for_status(resp, method, url, text)
    return {
        "status": resp.status_code,
        "headers": dict(resp.headers.items()),
        "json": _json_or_none(resp, data),
        "text": text,
    }


def _read_capped(resp: httpx.Response, limit: int, method: str, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise NonRetryable(
                f"{method} {url}: response body exceeds {limit} bytes "
                "(JARVIS_BOOK_HTTP_MAX_RESPONSE_BYTES)"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _json_or_none(resp: httpx.Response, data: bytes) -> JsonValue:
    if not data or "json" not in resp.headers.get("content-type", ""):
        return None
    try:
        value: JsonValue = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value


def _raise_for_status(resp: httpx.Response, method: str, url: str, text: str) -> None:
    status = resp.status_code
    if status < 400:
        return
    snippet = text[:200] + ("..." if len(text) > 200 else "")
    message = f"{method} {url} -> {status} {resp.reason_phrase}" + (
        f": {snippet}" if snippet else ""
    )
    if status in (429, 503) or status >= 500:
        raise Unavailable(message, retry_after_s=_retry_after(resp.headers.get("retry-after")))
    if status == 408:
        raise Timeout(message)
    if status in (401, 403):
        raise AuthError(message)
    if status in (404, 410):
        raise NotFound(message)
    if status in (400, 422):
        raise InvalidInput(message)
    raise NonRetryable(message)


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
