"""Artifact storage: S3-compatible object storage, or a local directory; presigned URLs."""

from jarvis.artifacts.store import (
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    SignedUrl,
    StoredArtifact,
)
from jarvis.artifacts.urls import with_urls

__all__ = [
    "ArtifactStore",
    "LocalArtifactStore",
    "S3ArtifactStore",
    "SignedUrl",
    "StoredArtifact",
    "with_urls",
]
