"""Presigned URLs on the artifact references an event hands to orchestrators.

Signed when the event is published, never journaled: a re-announced outcome (a duplicate
start, a take-over) gets fresh URLs instead of ones that may have expired since.
"""

from __future__ import annotations

import logging

from jarvis.artifacts.store import ArtifactStore
from jarvis.contract.messages import LifecycleEvent
from jarvis.errors import ArtifactError

log = logging.getLogger("jarvis.artifacts")


def with_urls(event: LifecycleEvent, store: ArtifactStore, expires_s: int) -> LifecycleEvent:
    """``event`` with a presigned URL and its expiry beside each ``s3://`` reference
    (``artifacts[*]`` and ``result_ref``). A store without URLs (local) or a signature that
    fails (no credentials) leaves the fields null: the event still goes out, with its URIs."""
    if not event.artifacts and event.result_ref is None:
        return event
    update: dict[str, object] = {}
    try:
        if event.artifacts:
            refs = []
            for ref in event.artifacts:
                signed = store.presign(ref.uri, expires_s)
                refs.append(
                    ref
                    if signed is None
                    else ref.model_copy(
                        update={"url": signed.url, "url_expires_at": signed.expires_at}
                    )
                )
            update["artifacts"] = refs
        if event.result_ref is not None:
            signed = store.presign(event.result_ref, expires_s)
            if signed is not None:
                update["result_url"] = signed.url
                update["result_url_expires_at"] = signed.expires_at
    except ArtifactError as exc:
        log.warning("execution %s: artifact URLs left out: %s", event.execution_id, exc)
        return event
    return event.model_copy(update=update)
