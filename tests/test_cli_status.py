"""`jarvis status` / `artifacts` rendering without Redis: redacted addresses, program text made
safe for a terminal, and which artifact URLs are signed again (jarvis/cli/status.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jarvis.cli.status import artifact_rows, redis_address, status_text


def test_redis_address_never_shows_the_password() -> None:
    assert redis_address("redis://:s3cret@10.0.0.5:6380/2") == "redis://10.0.0.5:6380/2"
    assert redis_address("rediss://user:s3cret@cache.example/0") == "rediss://cache.example/0"
    assert redis_address("unix:///run/redis.sock?db=1") == "unix:///run/redis.sock"


def test_program_text_cannot_drive_the_terminal() -> None:
    hostile = "\x1b[2J\x1b]0;owned\x07"
    text = status_text(
        {
            "execution_id": "e-1",
            "state": "failed",
            "worker": "w\x1b[31m",
            "attempt": 2,
            "error_type": "ValueError",
            "error_message": hostile + "\nsecond line",
            "error_traceback": "Traceback:\n  line 1\n" + hostile,
            "ttl_s": 60,
        }
    )
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in text and "\\nsecond line" in text  # shown, escaped, on one line
    assert "error      ValueError: " in text
    assert "  Traceback:\n    line 1\n" in text  # a traceback keeps its lines


def test_only_missing_or_expiring_urls_are_signed_again() -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    soon = (datetime.now(UTC) + timedelta(seconds=10)).isoformat()
    status = {
        "artifacts": [
            {"name": "fresh", "uri": "s3://b/1", "size": 1, "url": "u1", "url_expires_at": later},
            {"name": "old", "uri": "s3://b/2", "size": 2, "url": "u2", "url_expires_at": past},
            {"name": "soon", "uri": "s3://b/3", "size": 3, "url": "u3", "url_expires_at": soon},
            {"name": "local", "uri": "file:///x", "size": 4, "url": None, "url_expires_at": None},
        ],
        "result_ref": "s3://b/result.json",
        "result_bytes": 9,
    }
    asked: list[str] = []
    new_at = datetime.now(UTC) + timedelta(hours=2)

    def resign(uri: str) -> tuple[str, datetime] | str:
        asked.append(uri)
        return (
            ("new-" + uri, new_at) if uri != "s3://b/3" else "cannot sign a new URL: no credentials"
        )

    rows = {r["name"]: r for r in artifact_rows(status, resign)}
    assert asked == ["s3://b/2", "s3://b/3", "s3://b/result.json"]
    assert rows["fresh"]["url"] == "u1" and rows["fresh"]["resigned"] is False
    assert rows["old"]["url"] == "new-s3://b/2" and rows["old"]["resigned"] is True
    assert rows["soon"]["url"] == "u3" and rows["soon"]["expired"] is False
    assert "no credentials" in rows["soon"]["resign_error"]
    assert rows["result.json"]["size"] == 9 and rows["result.json"]["resigned"] is True
    assert rows["local"]["url"] is None and rows["local"]["resigned"] is False
