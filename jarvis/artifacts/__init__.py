"""Artifact storage: S3-compatible object storage, or a local directory."""

from jarvis.artifacts.store import (
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    StoredArtifact,
)

__all__ = ["ArtifactStore", "LocalArtifactStore", "S3ArtifactStore", "StoredArtifact"]
