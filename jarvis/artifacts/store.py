"""Where artifacts go: S3-compatible object storage in pods, a directory for ``jarvis run``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jarvis.errors import ArtifactError


@dataclass(frozen=True)
class StoredArtifact:
    name: str
    uri: str
    size: int


class ArtifactStore(Protocol):
    def put(self, execution_id: str, name: str, data: bytes) -> StoredArtifact: ...

    def get(self, uri: str) -> bytes: ...


class LocalArtifactStore:
    """Artifacts as files under ``<root>/<execution_id>/artifacts/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, execution_id: str, name: str, data: bytes) -> StoredArtifact:
        path = self.root / execution_id / "artifacts" / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            raise ArtifactError(f"cannot store artifact {name!r} at {path}: {exc}") from exc
        return StoredArtifact(name=name, uri=path.resolve().as_uri(), size=len(data))

    def get(self, uri: str) -> bytes:
        return Path(uri.removeprefix("file://")).read_bytes()


class S3ArtifactStore:
    """Artifacts as objects ``s3://<bucket>/<prefix>/<execution_id>/<name>`` (boto3)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "executions",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
            ),
        )

    def key(self, execution_id: str, name: str) -> str:
        return f"{self.prefix}/{execution_id}/{name}" if self.prefix else f"{execution_id}/{name}"

    def put(self, execution_id: str, name: str, data: bytes) -> StoredArtifact:
        key = self.key(execution_id, name)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except Exception as exc:  # botocore raises many types; all mean "not stored"
            raise ArtifactError(
                f"cannot upload artifact {name!r} to s3://{self.bucket}/{key}: {exc}"
            ) from exc
        return StoredArtifact(name=name, uri=f"s3://{self.bucket}/{key}", size=len(data))

    def get(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())

    def presign(self, uri: str, expires_s: int = 3600) -> str:
        """A time-limited signed URL for reading the artifact."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
            )
        )
