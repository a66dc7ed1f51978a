"""S3Proxy, an S3 API server that enforces SigV4 signatures and presigned-URL expiry.

The local stack's moto server serves a presigned URL whatever its signature or
``X-Amz-Expires`` say (moto 5.x checks neither for an S3 GET: its IAM check reads only the
``Authorization`` header, which a presigned request has none of). Tests that need a URL
refused after its expiry use S3Proxy instead: fetched from Maven Central by
``scripts/s3proxy install`` (cached), started here on a free loopback port with an in-memory
store, credentials equal to the stack's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT


@dataclass(frozen=True)
class S3Proxy:
    endpoint_url: str
    access_key: str
    secret_key: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def s3proxy(workdir: Path) -> Iterator[S3Proxy]:
    jar = subprocess.run(
        [str(ROOT / "scripts" / "s3proxy"), "install"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    if jar.returncode != 0:
        raise RuntimeError(f"scripts/s3proxy install failed:\n{jar.stderr}")
    port = _free_port()
    access = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "s3proxy.conf"
    conf.write_text(
        f"s3proxy.endpoint=http://127.0.0.1:{port}\n"
        "s3proxy.authorization=aws-v2-or-v4\n"
        f"s3proxy.identity={access}\n"
        f"s3proxy.credential={secret}\n"
        "jclouds.provider=transient-nio2\n"
        "jclouds.identity=unused\n"
        "jclouds.credential=unused\n"
    )
    log = (workdir / "s3proxy.log").open("wb")
    proc = subprocess.Popen(
        ["java", "-jar", jar.stdout.strip().splitlines()[-1], "--properties", str(conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"S3Proxy exited ({proc.returncode}): {(workdir / 's3proxy.log').read_text()[-2000:]}"
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("S3Proxy did not listen within 60 s") from None
                time.sleep(0.1)
        yield S3Proxy(f"http://127.0.0.1:{port}", access, secret)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
