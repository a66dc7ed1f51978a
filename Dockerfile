# syntax=docker/dockerfile:1
# The Jarvis image: `jarvis worker` by default; the chart's hook runs `jarvis topics apply`.
#
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE_URL=https://github.com/<owner>/<repo> -t jarvis:0.1.0 .
#
# Base: python:3.11-slim-bookworm, pinned by its multi-platform OCI index digest (linux/amd64,
# linux/arm64/v8, ...), in every FROM below. Where that digest came from: no registry is
# reachable where this file was written, so it was read from the Docker Official Images'
# published record, github.com/docker-library/repo-info, file
# repos/python/remote/3.11-slim-bookworm.md at commit 33a22f41ac7bf613bc03380b0317536a9a7fb5e8:
# index sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b, Python 3.11.16
# on Debian bookworm, images built 25 Aug 2026 (linux/amd64 manifest sha256:2fc9207f64226cb0...,
# linux/arm64/v8 sha256:139fa455f4fbf058...); other public projects recorded Docker Hub
# returning the same index digest for the tag on 2026-08-28. Refresh it where a registry is
# reachable with scripts/pin-base-image (crane, docker buildx imagetools or skopeo).
#
# Dependencies come only from requirements/*.lock (scripts/lock), installed with
# --require-hashes and --only-binary (no compiler, no sdist runs code at build time).

# ---- builder: builds the Jarvis wheel, installs it and its locked dependencies in /opt/jarvis
FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src

# Build tools in a venv of their own (never shipped); the runtime venv gets no pip at all.
COPY requirements/build.lock requirements/image.lock /src/requirements/
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install --require-hashes --only-binary :all: -r requirements/build.lock \
 && python -m venv --without-pip /opt/jarvis \
 && /opt/build/bin/pip --python /opt/jarvis/bin/python install --compile \
      --require-hashes --only-binary :all: -r requirements/image.lock

# The source last, so a code change reuses the dependency layer above.
COPY pyproject.toml README.md /src/
COPY jarvis /src/jarvis
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /dist /src \
 && /opt/build/bin/pip --python /opt/jarvis/bin/python install --compile --no-deps --no-index /dist/*.whl \
 && /opt/build/bin/pip --python /opt/jarvis/bin/python check \
 && cd / && /opt/jarvis/bin/jarvis topics plan >/dev/null \
 && /opt/jarvis/bin/jarvis contract export --check

# ---- runtime: the base image, a non-root user and /opt/jarvis; nothing else
FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE_URL=""

LABEL org.opencontainers.image.title="jarvis" \
      org.opencontainers.image.description="Jarvis: Kafka-driven, event-sourced execution engine for SPy programs (a sandboxed subset of Python)" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm" \
      org.opencontainers.image.base.digest="sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b"

# The base's own pip/setuptools/wheel are not needed by /opt/jarvis (a venv without system
# site-packages): drop them. One user and group, 10001, owning the checkpoint mount point.
RUN python -m pip uninstall --yes --disable-pip-version-check --root-user-action=ignore pip setuptools wheel \
 && groupadd --system --gid 10001 jarvis \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin jarvis \
 && install -d -o 10001 -g 10001 -m 0750 /checkpoints

COPY --from=builder /opt/jarvis /opt/jarvis

# readOnlyRootFilesystem: the process writes only under /tmp (HOME, TMPDIR, the working
# directory: an emptyDir in the chart) and /checkpoints (the checkpoint volume). Bytecode was
# compiled at build time; PYTHONDONTWRITEBYTECODE keeps Python from trying to write more.
ENV PATH=/opt/jarvis/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    JARVIS_CHECKPOINT_DIR=/checkpoints

WORKDIR /tmp
USER 10001:10001
# /livez, /readyz, /metrics (JARVIS_HEALTH_PORT). No HEALTHCHECK: Kubernetes probes them.
EXPOSE 8080

ENTRYPOINT ["jarvis"]
CMD ["worker"]
