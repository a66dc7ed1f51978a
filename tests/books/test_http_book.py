"""The http Book against a real HTTP server on 127.0.0.1 (stdlib http.server in a thread)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from jarvis.bdk import RetrySettings
from jarvis.books import BookRegistry
from jarvis.books.http import HttpConfig, _Rule
from jarvis.errors import BookUnavailable, ProgramError
from tests.helpers.books import Recorder, call


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str/bytes -> text
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # wait until the test ends (to provoke a read timeout)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Server:
    """Scripted replies per path (the last one repeats); records every request it gets."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *replies: Reply) -> None:
        self.replies[path] = list(replies)

    def _next(self, path: str) -> Reply:
        queue = self.replies.get(path.split("?")[0], [Reply(404, "no such path")])
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as httpx's pooled client expects

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.seen.append(
                    Seen(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                reply = server._next(self.path)
                if reply.hang:
                    server.release.wait(10)
                if isinstance(reply.body, dict | list):
                    data, ctype = json.dumps(reply.body).encode(), "application/json"
                elif isinstance(reply.body, bytes):
                    data, ctype = reply.body, "application/octet-stream"
                else:
                    data, ctype = (reply.body or "").encode(), "text/plain; charset=utf-8"
                self.send_response(reply.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.thread.start()
    yield s
    s.release.set()
    s.httpd.shutdown()
    s.httpd.server_close()


def registry(allow: list[str], **config: Any) -> BookRegistry:
    # The http Book as a worker gets it: through its entry point, with config given in code.
    reg = BookRegistry.discover(
        retry_settings=RetrySettings(), configs={"http": HttpConfig(allow=allow, **config)}
    )
    reg.resolve(["http"])
    return reg


@pytest.fixture
def reg(server: Server) -> BookRegistry:
    return registry([server.url("/")])


def test_get_returns_status_headers_json_and_text(
    server: Server, reg: BookRegistry, rec: Recorder
) -> None:
    server.script("/items", Reply(200, {"items": [1, 2]}, {"X-Total": "2"}))
    r = call(
        reg,
        rec,
        "http.get",
        server.url("/items"),
        headers={"Accept": "application/json"},
        params={"q": "a b", "n": 3, "tag": ["x", "y"]},
        idem="exec-h:3",
    )
    assert r["status"] == 200
    assert r["json"] == {"items": [1, 2]}
    assert r["text"] == '{"items": [1, 2]}'
    assert r["headers"]["x-total"] == "2" and r["headers"]["content-type"] == "application/json"
    (seen,) = server.seen
    assert seen.path == "/items?q=a+b&n=3&tag=x&tag=y"
    assert seen.headers["idempotency-key"] == "exec-h:3"
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["user-agent"] == "jarvis-http-book/1"


def test_post_sends_json_and_returns_text_bodies(
    server: Server, reg: BookRegistry, rec: Recorder
) -> None:
    server.script("/orders", Reply(201, "created"))
    r = call(reg, rec, "http.post", server.url("/orders"), json={"sku": "A-1", "qty": 2})
    assert (r["status"], r["json"], r["text"]) == (201, None, "created")
    (seen,) = server.seen
    assert seen.method == "POST"
    assert json.loads(seen.body) == {"sku": "A-1", "qty": 2}
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["idempotency-key"] == "exec-1:0"


def test_urls_outside_the_allow_list_are_refused_without_a_request(
    server: Server, rec: Recorder
) -> None:
    reg = registry([server.url("/public/")])
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "http.get", server.url("/admin"))
    assert err.value.spy_type == "BookError"
    assert err.value.message.startswith(
        f"http.get failed after 1 attempt: AuthError: URL '{server.url('/admin')}' is not in the "
        "http Book's allow-list"
    )
    assert "JARVIS_BOOK_HTTP_ALLOW" in err.value.message
    assert server.seen == [] and rec.outcomes == ["error"]


def test_an_empty_allow_list_allows_nothing(server: Server, rec: Recorder) -> None:
    reg = registry([])
    with pytest.raises(ProgramError, match="AuthError"):
        call(reg, rec, "http.get", server.url("/"))
    assert server.seen == []


def test_host_globs_allow_a_host(server: Server, rec: Recorder) -> None:
    server.script("/x", Reply(200, "hi"))
    for allow in (["127.0.0.1"], [f"127.0.0.1:{server.port}"], ["127.0.0.*"], ["*"]):
        assert call(registry(allow), rec, "http.get", server.url("/x"))["text"] == "hi"
    with pytest.raises(ProgramError, match="AuthError"):
        call(registry(["127.0.0.1:1"]), rec, "http.get", server.url("/x"))


@pytest.mark.parametrize(
    ("entry", "url", "allowed"),
    [
        ("https://api.example.com/v1", "https://api.example.com/v1", True),
        ("https://api.example.com/v1", "https://api.example.com/v1/items?x=1", True),
        ("https://api.example.com/v1", "https://api.example.com/v10", False),
        ("https://api.example.com/v1/", "https://api.example.com/v1/a/b", True),
        ("https://api.example.com/v1/", "https://api.example.com/v1/../admin", False),
        ("https://api.example.com/v1/", "https://api.example.com/v1%2F..%2Fadmin", False),
        ("https://api.example.com", "https://api.example.com.evil.com/", False),
        ("https://api.example.com", "https://api.example.com@evil.com/", False),
        ("https://api.example.com", "http://api.example.com/", False),
        ("https://api.example.com", "https://api.example.com:8443/", False),
        ("https://api.example.com", "https://API.example.com:443/x", True),
        ("*.example.com", "https://a.example.com/x", True),
        ("*.example.com", "http://a.b.example.com/x", True),
        ("*.example.com", "https://example.com/", False),
        ("*.example.com", "https://example.com.evil.org/", False),
        ("api.example.com:*", "http://api.example.com:8080/", True),
    ],
)
def test_allow_list_matching(entry: str, url: str, allowed: bool) -> None:
    assert _Rule.parse(entry).allows(httpx.URL(url)) is allowed


def test_allow_list_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_BOOK_HTTP_ALLOW", " https://a.example.com/v1/ , *.b.example.com,")
    assert HttpConfig().allow == ["https://a.example.com/v1/", "*.b.example.com"]
    monkeypatch.setenv("JARVIS_BOOK_HTTP_ALLOW", "ftp://files.example.com/")
    with pytest.raises(ValueError, match="must be an http\\(s\\) URL"):
        HttpConfig()
    monkeypatch.setenv("JARVIS_BOOK_HTTP_ALLOW", "example.com/path")
    with pytest.raises(ValueError, match="neither a URL prefix"):
        HttpConfig()


def test_a_bad_allow_list_fails_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_BOOK_HTTP_ALLOW", "nope/nope")
    reg = BookRegistry.discover()
    with pytest.raises(BookUnavailable, match="Book 'http' is misconfigured"):
        reg.resolve(["http"])


def test_503_then_200_is_retried_with_the_same_idempotency_key(
    server: Server, reg: BookRegistry, rec: Recorder
) -> None:
    server.script("/flaky", Reply(503, "try later"), Reply(200, {"ok": True}))
    r = call(reg, rec, "http.post", server.url("/flaky"), json=[1], idem="exec-r:9")
    assert r["json"] == {"ok": True}
    assert [s.headers["idempotency-key"] for s in server.seen] == ["exec-r:9", "exec-r:9"]
    assert rec.outcomes == ["retry", "ok"]
    assert rec.attempts[0].error_type == "Unavailable"
    assert (
        rec.attempts[0].message
        == f"POST {server.url('/flaky')} -> 503 Service Unavailable: try later"
    )
    assert rec.sleeps == [0.2]


def test_429_honours_retry_after(server: Server, reg: BookRegistry, rec: Recorder) -> None:
    server.script("/busy", Reply(429, "slow down", {"Retry-After": "2"}), Reply(200, "ok"))
    assert call(reg, rec, "http.get", server.url("/busy"))["text"] == "ok"
    assert rec.sleeps == [2.0]


def test_404_is_not_retried(server: Server, reg: BookRegistry, rec: Recorder) -> None:
    server.script("/missing", Reply(404, "no such item"))
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "http.get", server.url("/missing"))
    assert err.value.message == (
        f"http.get failed after 1 attempt: NotFound: GET {server.url('/missing')} -> 404 Not Found: no such item"
    )
    assert len(server.seen) == 1 and rec.sleeps == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, "InvalidInput"),
        (401, "AuthError"),
        (403, "AuthError"),
        (409, "NonRetryable"),
        (410, "NotFound"),
        (422, "InvalidInput"),
    ],
)
def test_other_4xx_are_not_retried(
    server: Server, reg: BookRegistry, rec: Recorder, status: int, error: str
) -> None:
    server.script("/p", Reply(status, "no"))
    with pytest.raises(ProgramError, match=f"after 1 attempt: {error}: GET "):
        call(reg, rec, "http.get", server.url("/p"))
    assert len(server.seen) == 1


def test_5xx_exhausts_the_attempts(server: Server, reg: BookRegistry, rec: Recorder) -> None:
    server.script("/down", Reply(500, "boom"))
    with pytest.raises(
        ProgramError, match=r"http\.get failed after 5 attempts: Unavailable: GET .* -> 500"
    ):
        call(reg, rec, "http.get", server.url("/down"))
    assert len(server.seen) == 5
    assert rec.sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6])


def test_transport_errors_are_retried(rec: Recorder) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reg = registry([f"127.0.0.1:{port}"])
    with pytest.raises(ProgramError, match="failed after 5 attempts: ConnectError"):
        call(reg, rec, "http.get", f"http://127.0.0.1:{port}/")
    assert rec.outcomes == ["retry"] * 4 + ["error"]


def test_a_slow_server_times_out_and_is_retried(server: Server, rec: Recorder) -> None:
    server.script("/slow", Reply(hang=True), Reply(200, "fast"))
    reg = registry([server.url("/")], timeout_s=0.5)  # room for the fast reply on a loaded machine
    assert call(reg, rec, "http.get", server.url("/slow"))["text"] == "fast"
    assert rec.outcomes == ["retry", "ok"]
    assert rec.attempts[0].error_type == "ReadTimeout"


def test_oversized_responses_fail_without_retry(server: Server, rec: Recorder) -> None:
    server.script("/big", Reply(200, b"x" * 100))
    reg = registry([server.url("/")], max_response_bytes=10)
    with pytest.raises(ProgramError, match=r"NonRetryable: GET .* response body exceeds 10 bytes"):
        call(reg, rec, "http.get", server.url("/big"))


def test_redirects_are_returned_not_followed(
    server: Server, reg: BookRegistry, rec: Recorder
) -> None:
    server.script("/old", Reply(302, "", {"Location": "https://elsewhere.example.com/"}))
    r = call(reg, rec, "http.get", server.url("/old"))
    assert r["status"] == 302 and r["headers"]["location"] == "https://elsewhere.example.com/"
    assert len(server.seen) == 1


def test_bad_urls_and_arguments(server: Server, reg: BookRegistry, rec: Recorder) -> None:
    with pytest.raises(ProgramError, match="InvalidInput: URL '/relative' must be absolute"):
        call(reg, rec, "http.get", "/relative")
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "http.get", server.url("/"), headers={"X-N": 1})
    assert err.value.spy_type == "TypeError"
    assert (
        err.value.message == "http.get() argument 'headers' [X-N]: Input should be a valid string"
    )
