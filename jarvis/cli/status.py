"""``jarvis status``, ``jarvis ls``, ``jarvis artifacts``: reading the live status view.

The workers keep each execution's latest state in Redis (``jarvis.worker.status``); these
commands read it for the deployment named by ``JARVIS_GROUP_ID`` at ``JARVIS_REDIS_URL``.
Redis is asked with short socket timeouts and no retries, so an unreachable Redis is one
line naming its address within ``REDIS_TIMEOUT_S``, never a hang or a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import orjson
import typer

from jarvis.cli.app import _fail, _safe, app
from jarvis.contract.messages import EXECUTION_ID_PATTERN

T = TypeVar("T")

REDIS_TIMEOUT_S = 3.0
"""Connect and read timeout of each Redis call the CLI makes."""

RESIGN_MARGIN_S = 60
"""A stored URL expiring sooner than this is signed again (when the CLI has credentials)."""


JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of readable text.")]


def _die(message: str, code: int = 2) -> NoReturn:
    _fail(message, code)
    raise AssertionError("unreachable")  # _fail raises typer.Exit


def redis_address(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        parts = urlsplit(url)
        if not parts.scheme:
            return "(not a redis:// URL)"
        if parts.scheme == "unix":
            return f"unix://{parts.path}"
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
    except ValueError:
        return "(an unparsable JARVIS_REDIS_URL)"


class _View:
    """The status view of this deployment, and how to say Redis failed."""

    def __init__(self) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        from jarvis.settings import Settings
        from jarvis.worker.status import RedisStore

        try:
            self.settings = Settings()
        except ValueError as exc:
            _die(f"invalid settings: {exc}")
        self.address = redis_address(self.settings.redis_url)
        password = self.settings.redis_password
        try:
            client = redis.Redis.from_url(
                self.settings.redis_url,
                socket_connect_timeout=REDIS_TIMEOUT_S,
                socket_timeout=REDIS_TIMEOUT_S,
                retry=Retry(NoBackoff(), 0),
                password=password.get_secret_value() if password else None,
            )
        except ValueError as exc:
            _die(f"JARVIS_REDIS_URL {self.address}: {exc}")
        self.store = RedisStore(client, self.settings.group_id, self.settings.status_ttl_s)
        self._error = redis.RedisError

    def read(self, what: Callable[[], T]) -> T:
        try:
            return what()
        except self._error as exc:
            _die(
                f"cannot read the status view from Redis at {self.address}: {exc} "
                "(is JARVIS_REDIS_URL right, and Redis up?)"
            )

    def status(self, execution_id: str) -> dict[str, Any]:
        if re.fullmatch(EXECUTION_ID_PATTERN, execution_id) is None:
            _die(
                f"{_safe(execution_id)!r} is not an execution id "
                "(letters, digits and . _ : -, at most 128)"
            )
        found = self.read(lambda: self.store.get(execution_id))
        if found is None:
            _die(
                f"no status for execution {execution_id} in deployment "
                f"{self.settings.group_id} (Redis at {self.address}): unknown id, or its record "
                f"expired (JARVIS_STATUS_TTL_S={self.settings.status_ttl_s:g})",
                code=1,
            )
        return found


def _json(data: object) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode())


def _kept(ttl_s: int | None) -> str:
    if ttl_s is None:
        return "no expiry"
    return f"expires in {timedelta(seconds=ttl_s)} (JARVIS_STATUS_TTL_S after its last update)"


def _progress_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    worker = s.get("worker", "?")
    attempt = s.get("attempt", 0)
    rows = [("worker", f"{_safe(worker)} (attempt {attempt or 'none: not leased yet'})")]
    for label, name in (
        ("accepted", "accepted_at"),
        ("started", "started_at"),
        ("ended", "ended_at"),
        ("updated", "updated_at"),
    ):
        if name in s:
            rows.append((label, str(s[name])))
    if "seq" in s or "log_records" in s:
        seq = s.get("seq", -1)
        text = "none" if seq == -1 else str(seq)
        if "log_records" in s:
            text += f" ({s['log_records']} log records)"
        rows.append(("last seq", text))
    return rows


def _result_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    if s.get("state") != "completed":
        return []
    if "result_ref" in s:
        return [
            ("result", f"stored: {_safe(s['result_ref'])} ({s.get('result_bytes', '?')} bytes)")
        ]
    if "result" not in s:
        return []
    raw = s["result"]
    shown = (
        raw if isinstance(raw, str) and s.get("result_truncated") else orjson.dumps(raw).decode()
    )
    return [("result", f"{_safe(shown)} ({_safe(s.get('result_type', '?'))})")]


def _ending_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    if "error_type" in s:
        where = f" at line {s['error_line']}" if "error_line" in s else ""
        rows.append(
            ("error", f"{_safe(s['error_type'])}{where}: {_safe(s.get('error_message', ''))}")
        )
    if "stop_mode" in s:
        rows.append(("stopped", str(s["stop_mode"])))
    if "reason" in s:
        field = f" (field {_safe(s['field'])})" if "field" in s else ""
        rows.append(("reason", _safe(s["reason"]) + field))
    return rows


def _artifact_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    artifacts = s.get("artifacts")
    if not isinstance(artifacts, list) or not artifacts:
        return []
    names = ", ".join(
        f"{_safe(a.get('name'))} ({a.get('size')} bytes)" for a in artifacts if isinstance(a, dict)
    )
    count = s.get("artifacts_count", len(artifacts))
    more = f" and {count - len(artifacts)} more" if count > len(artifacts) else ""
    return [("artifacts", f"{names}{more}; URLs: jarvis artifacts {s['execution_id']}")]


def status_text(s: dict[str, Any]) -> str:
    rows = _progress_rows(s) + _result_rows(s) + _ending_rows(s) + _artifact_rows(s)
    if "labels" in s:
        rows.append(("labels", _safe(orjson.dumps(s["labels"]).decode())))
    rows.append(("kept", _kept(s.get("ttl_s"))))
    lines = [f"{s['execution_id']}  {str(s.get('state', '?')).upper()}"]
    lines += [f"  {label:<10} {value}" for label, value in rows]
    if "error_traceback" in s:
        lines.append("")
        lines += ["  " + line for line in _safe(s["error_traceback"], lines=True).splitlines()]
    return "\n".join(lines)


@app.command()
def status(
    execution_id: Annotated[str, typer.Argument(help="Execution id.")],
    json: JsonOpt = False,
) -> None:
    """Show an execution's latest state (the workers' live status view in Redis).

    Its worker, attempt, times, last log seq, result or error, and artifacts."""
    s = _View().status(execution_id)
    if json:
        _json(s)
    else:
        typer.echo(status_text(s))


@app.command("ls")
def list_executions(
    state: Annotated[
        str | None, typer.Option("--state", help="Only executions in this state.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 20,
    json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List recent executions of this deployment, newest update first."""
    from jarvis.worker.status import STATES

    if state is not None and state not in STATES:
        _die(f"unknown state {_safe(state)!r}; valid states: {', '.join(STATES)}")
    view = _View()
    found = view.read(lambda: view.store.list(state, limit))
    if not found:
        typer.secho(
            f"no {state + ' ' if state else ''}executions in the status view of deployment "
            f"{view.settings.group_id} (Redis at {view.address})",
            err=True,
        )
        return
    for s in found:
        if json:
            _json(s)
        else:
            attempt = s.get("attempt", 0)
            typer.echo(
                f"{s.get('updated_at', '?'):<28} {s.get('state', '?'):<13} {attempt:>3}  "
                f"{_safe(s.get('worker', '?')):<24} {s['execution_id']}"
            )


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def artifact_rows(
    s: dict[str, Any], resign: Callable[[str], tuple[str, datetime] | str]
) -> list[dict[str, Any]]:
    """Each artifact (and a stored result) with a URL valid for at least RESIGN_MARGIN_S:
    the stored one, or a new signature (``resign(uri)``: the URL and its expiry, or why not)."""
    listed = s.get("artifacts")
    items = [dict(a) for a in listed if isinstance(a, dict)] if isinstance(listed, list) else []
    if "result_ref" in s:
        items.append(
            {
                "name": "result.json",
                "uri": s["result_ref"],
                "size": s.get("result_bytes"),
                "url": s.get("result_url"),
                "url_expires_at": s.get("result_url_expires_at"),
            }
        )
    soon = datetime.now(UTC) + timedelta(seconds=RESIGN_MARGIN_S)
    for item in items:
        expires = _parse_time(item.get("url_expires_at"))
        item["resigned"] = False
        if item.get("url") and expires is not None and expires > soon:
            continue
        uri = item.get("uri")
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            continue
        signed = resign(uri)
        if isinstance(signed, str):
            item["resign_error"] = signed
            item["expired"] = expires is None or expires <= datetime.now(UTC)
        else:
            item["url"], at = signed
            item["url_expires_at"] = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
            item["resigned"] = True
    return items


@app.command()
def artifacts(
    execution_id: Annotated[str, typer.Argument(help="Execution id.")],
    json: Annotated[bool, typer.Option("--json", help="One JSON object per artifact.")] = False,
) -> None:
    """List an execution's artifacts with presigned URLs (expired ones signed again).

    A URL is signed again when it expired, or expires within a minute, and this machine has
    object-store credentials (the AWS chain, JARVIS_S3_*)."""
    from jarvis.errors import ArtifactError

    view = _View()
    s = view.status(execution_id)
    settings = view.settings
    store: Any = None

    def resign(uri: str) -> tuple[str, datetime] | str:
        nonlocal store
        try:
            if store is None:
                from jarvis.artifacts import S3ArtifactStore

                store = S3ArtifactStore(
                    settings.s3_bucket,
                    settings.s3_prefix,
                    settings.s3_endpoint_url,
                    settings.s3_region,
                )
            signed = store.presign(uri, settings.artifact_url_expiry_s)
        except (ArtifactError, ValueError) as exc:
            return f"cannot sign a new URL: {exc}"
        return signed.url, signed.expires_at

    rows = artifact_rows(s, resign)
    if not rows:
        typer.secho(
            f"execution {execution_id} has no artifacts (state {s.get('state', '?')})", err=True
        )
        return
    count = s.get("artifacts_count")
    for row in rows:
        if json:
            _json(row)
            continue
        until = row.get("url_expires_at") or "?"
        note = " (signed just now)" if row["resigned"] else ""
        typer.echo(f"{_safe(row.get('name'))}  {row.get('size')} bytes  {_safe(row.get('uri'))}")
        if row.get("url"):
            state = "EXPIRED " if row.get("expired") else ""
            typer.echo(f"  {state}url until {until}{note}: {_safe(row['url'])}")
        if "resign_error" in row:
            typer.echo(f"  {_safe(row['resign_error'])}")
    listed = len([a for a in s.get("artifacts") or [] if isinstance(a, dict)])
    if isinstance(count, int) and count > listed:
        typer.secho(
            f"{count - listed} more artifact(s) not kept in the status view (the "
            "completed event on spy_events lists them all)",
            err=True,
        )
