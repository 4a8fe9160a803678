# syntax=docker/dockerfile:1
#
# One image for every shuttle process: the web server (`shuttle serve`), the media worker
# (`shuttle worker`) and one-off commands (`shuttle db upgrade`, `shuttle users create ...`).
# docker-compose.yml picks the command per service. Nothing secret is baked in: every
# credential comes from the environment (or a mounted file) at run time.
#
#   docker build -t shuttle .
#   docker run --rm -p 8000:8000 -v shuttle-data:/var/lib/shuttle shuttle
#     (embedded default: SQLite + local encrypted blobs + in-process worker)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------
# build: install the project and its dependencies into a virtualenv that the runtime copies
# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/shuttle
ENV PATH=/opt/shuttle/bin:$PATH

WORKDIR /src

# Dependencies first (their own layer: rebuilt only when pyproject.toml changes).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# Then the project itself, as a regular (non-editable) install.
COPY . ./
RUN pip install --no-deps . \
 && shuttle --help >/dev/null

# ---------------------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# ffmpeg/ffprobe from Debian for the media worker; tini as PID 1 so SIGTERM reaches
# shuttle and zombies (ffmpeg children) are reaped. Not version-pinned on purpose: the
# pinned base image fixes the Debian release, and its security updates should apply.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a fixed uid/gid (so volume ownership is predictable).
RUN groupadd --system --gid 10001 shuttle \
 && useradd --system --uid 10001 --gid shuttle --home-dir /var/lib/shuttle \
        --shell /usr/sbin/nologin shuttle \
 && mkdir -p /var/lib/shuttle/keys \
 && chown -R shuttle:shuttle /var/lib/shuttle \
 && chmod 0700 /var/lib/shuttle /var/lib/shuttle/keys

COPY --from=build /opt/shuttle /opt/shuttle

ENV PATH=/opt/shuttle/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SHUTTLE_DATA_DIR=/var/lib/shuttle \
    SHUTTLE_KEYRING=/var/lib/shuttle/keys/keyring.json

USER 10001:10001
WORKDIR /var/lib/shuttle

EXPOSE 8000

# Liveness only (/healthz: the process answers). docker-compose.yml replaces this with
# /readyz for the web service and disables it for workers, which serve no HTTP.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request\ntry:\n    sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)\nexcept Exception:\n    sys.exit(1)"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["shuttle", "serve", "--host", "0.0.0.0", "--port", "8000"]
