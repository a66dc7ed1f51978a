"""InfluxDB and Telegraf from tests (the observability suite): a database read through
InfluxDB's HTTP API, and a Telegraf process running charts/telegraf/telegraf.conf."""

from __future__ import annotations

import contextlib
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from tests.helpers.tools import ROOT

TELEGRAF_CONF = ROOT / "charts" / "telegraf" / "telegraf.conf"


class Influx:
    """One database of the InfluxDB under test, read through its HTTP /query API."""

    def __init__(self, url: str, database: str) -> None:
        self.url = url
        self.database = database

    def query(self, q: str, db: bool = True) -> list[dict[str, Any]]:
        params = {"q": q, "epoch": "ns"}
        if db:
            params["db"] = self.database
        body = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"{self.url}/query", data=body, timeout=30) as resp:
            data = orjson.loads(resp.read())
        results = data.get("results", [])
        for result in results:
            assert "error" not in result, f"InfluxDB refused {q!r}: {result['error']}"
        return results

    def rows(self, q: str) -> list[dict[str, Any]]:
        """Every row of every series the query returns, as dicts (``time`` in ns)."""
        out = []
        for result in self.query(q):
            for series in result.get("series", []):
                columns = series["columns"]
                tags = series.get("tags", {})
                for values in series["values"]:
                    out.append({**tags, **dict(zip(columns, values, strict=True))})
        return out

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.query(f'DROP DATABASE "{self.database}"', db=False)


class Telegraf:
    """A Telegraf process running charts/telegraf/telegraf.conf against a Cluster's logs topic."""

    def __init__(self, binary: Path, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(binary), "--config", str(TELEGRAF_CONF)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        with contextlib.suppress(OSError):
            self._log.close()
