"""Where artifacts go: S3-compatible object storage in pods, a directory for ``jarvis run``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from jarvis.errors import ArtifactError
from jarvis.telemetry import tracing

MAX_URL_EXPIRY_S = 604_800
"""SigV4's longest presigned-URL lifetime (7 days): S3 refuses a longer ``X-Amz-Expires``."""


@dataclass(frozen=True)
class StoredArtifact:
    name: str
    uri: str
    size: int


@dataclass(frozen=True)
class SignedUrl:
    """A presigned GET URL and the moment it stops working (UTC)."""

    url: str
    expires_at: datetime


class ArtifactStore(Protocol):
    def put(self, execution_id: str, name: str, data: bytes) -> StoredArtifact: ...

    def get(self, uri: str) -> bytes: ...

    def presign(self, uri: str, expires_s: int) -> SignedUrl | None:
        """A URL anyone holding it can GET the artifact with, or None (a local store)."""
        ...


def url_expires_at(
    signed_at: datetime, expires_s: int, credential_expiries: Iterable[datetime | None] = ()
) -> datetime:
    """When a presigned URL stops working: its own expiry (``X-Amz-Date`` + ``X-Amz-Expires``),
    or earlier when it was signed with temporary credentials that expire first (S3 refuses a
    URL whose signing credentials have expired, whatever ``X-Amz-Expires`` says). ``None``
    stands for credentials without a known expiry (long-term keys)."""
    at = signed_at.astimezone(UTC) + timedelta(seconds=expires_s)
    for expiry in credential_expiries:
        if expiry is not None:
            at = min(at, expiry.astimezone(UTC))
    return at


def signed_at(url: str) -> tuple[datetime, int]:
    """``X-Amz-Date`` and ``X-Amz-Expires`` of a SigV4 presigned URL."""
    query = parse_qs(urlsplit(url).query)
    try:
        date = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return date, int(query["X-Amz-Expires"][0])
    except (KeyError, IndexError, ValueError) as exc:
        raise ArtifactError(
            f"not a SigV4 presigned URL (no X-Amz-Date/X-Amz-Expires): {exc}"
        ) from exc


def credential_expiry(credentials: Any) -> datetime | None:
    """When botocore's credentials expire, if they are temporary ones it refreshes (STS web
    identity under IRSA, instance or container roles); None for long-term keys.

    botocore exposes the time only as ``RefreshableCredentials._expiry_time`` (no public
    accessor); anything else there means "not known"."""
    expiry = getattr(credentials, "_expiry_time", None)
    return expiry if isinstance(expiry, datetime) and expiry.tzinfo is not None else None


def _attributes(
    execution_id: str, name: str, data: bytes, where: Path | str
) -> dict[str, Any] | None:
    """The attributes of an upload's span (tracing on; None otherwise: nothing to build)."""
    if not tracing.ENABLED:
        return None
    uri = where.resolve().as_uri() if isinstance(where, Path) else where
    return {
        "jarvis.execution_id": execution_id,
        "jarvis.artifact.name": name,
        "jarvis.artifact.bytes": len(data),
        "jarvis.artifact.uri": uri,
    }


class LocalArtifactStore:
    """Artifacts as files under ``<root>/<execution_id>/artifacts/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, execution_id: str, name: str, data: bytes) -> StoredArtifact:
        path = self.root / execution_id / "artifacts" / name
        with tracing.span("artifact upload", _attributes(execution_id, name, data, path)):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            except OSError as exc:
                raise ArtifactError(f"cannot store artifact {name!r} at {path}: {exc}") from exc
        return StoredArtifact(name=name, uri=path.resolve().as_uri(), size=len(data))

    def get(self, uri: str) -> bytes:
        return Path(uri.removeprefix("file://")).read_bytes()

    def presign(self, uri: str, expires_s: int) -> SignedUrl | None:
        return None  # a file on this machine: nothing to sign


class S3ArtifactStore:
    """Artifacts as objects ``s3://<bucket>/<prefix>/<execution_id>/<name>`` (boto3).

    The client signs with SigV4 (``s3v4``) in ``region`` (else the region boto3 resolves:
    AWS_REGION / AWS_DEFAULT_REGION / the profile), the only signature S3 accepts in every
    region and for presigned URLs up to 7 days; the addressing style is left to the AWS
    configuration (``s3.addressing_style``; botocore's ``auto`` otherwise)."""

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
        if client is None:
            session = boto3.session.Session()
            client = session.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region or None,
                config=Config(
                    signature_version="s3v4",
                    retries={"max_attempts": 5, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=30,
                ),
            )
        self.client = client

    def key(self, execution_id: str, name: str) -> str:
        return f"{self.prefix}/{execution_id}/{name}" if self.prefix else f"{execution_id}/{name}"

    def put(self, execution_id: str, name: str, data: bytes) -> StoredArtifact:
        key = self.key(execution_id, name)
        uri = f"s3://{self.bucket}/{key}"
        with tracing.span("artifact upload", _attributes(execution_id, name, data, uri)):
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
            except Exception as exc:  # botocore raises many types; all mean "not stored"
                raise ArtifactError(f"cannot upload artifact {name!r} to {uri}: {exc}") from exc
        return StoredArtifact(name=name, uri=f"s3://{self.bucket}/{key}", size=len(data))

    def get(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())

    def presign(self, uri: str, expires_s: int = 3600) -> SignedUrl:
        """A SigV4 presigned GET URL for the artifact, valid ``expires_s`` seconds (1..604800)
        or until the signing credentials expire, whichever comes first (``expires_at``)."""
        if not 1 <= expires_s <= MAX_URL_EXPIRY_S:
            raise ArtifactError(
                f"presigned URL expiry {expires_s} s is out of range: SigV4 allows 1..{MAX_URL_EXPIRY_S} s"
            )
        bucket, sep, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not sep or not bucket or not key:
            raise ArtifactError(f"cannot presign {uri!r}: not an s3://bucket/key URI")
        credentials = self._credentials()
        try:
            if credentials is not None:
                # Refresh now if due, so the expiry read below is that of the signing keys.
                credentials.get_frozen_credentials()
            before = credential_expiry(credentials)
            url = str(
                self.client.generate_presigned_url(
                    "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
                )
            )
        except Exception as exc:  # botocore: no credentials, a failed refresh...
            raise ArtifactError(f"cannot presign {uri}: {exc}") from exc
        # A refresh racing the signature: the earlier of the two expiries is the safe one.
        after = credential_expiry(credentials)
        date, expires = signed_at(url)
        return SignedUrl(url=url, expires_at=url_expires_at(date, expires, (before, after)))

    def _credentials(self) -> Any:
        # botocore.client.BaseClient._get_credentials: the object its request signer uses.
        get = getattr(self.client, "_get_credentials", None)
        return get() if callable(get) else None
