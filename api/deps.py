"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from api.answer_cache import AnswerCache
from rag.config import Settings
from rag.corpus import CorpusWriter
from rag.pipeline import QAPipeline
from rag.store import IndexStoreError

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False, description="A write key from RAG_WRITE_KEYS or RAG_WRITE_KEYS_FILE")

WRITES_DISABLED = (
    "writes are disabled: no write key is configured. Set RAG_WRITE_KEYS (comma-separated keys) or "
    "RAG_WRITE_KEYS_FILE (a file with one key per line), restart the service, and send "
    "'Authorization: Bearer <key>'"
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_pipeline(request: Request) -> QAPipeline:
    """The pipeline serving this request: with a shared store (PostgreSQL), first brought up to date
    with writes other API processes committed (one single-row read when nothing changed)."""
    pipeline: QAPipeline | None = getattr(request.app.state, "pipeline", None)
    if pipeline is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the index is not loaded yet")
    writer: CorpusWriter | None = getattr(request.app.state, "writer", None)
    if writer is not None and pipeline.backend is not None and pipeline.store.version is not None:
        try:
            return writer.latest()
        except IndexStoreError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return pipeline


PipelineDep = Annotated[QAPipeline, Depends(get_pipeline)]


def get_answer_cache(request: Request) -> AnswerCache:
    cache: AnswerCache = request.app.state.answer_cache
    return cache


AnswerCacheDep = Annotated[AnswerCache, Depends(get_answer_cache)]


def get_writer(request: Request, pipeline: PipelineDep) -> CorpusWriter:
    writer: CorpusWriter = request.app.state.writer
    return writer


WriterDep = Annotated[CorpusWriter, Depends(get_writer)]


def key_matches(given: str, allowed: Sequence[SecretStr]) -> bool:
    """Constant-time comparison against every allowed key (bytes, so any header text is safe to compare)."""
    given_bytes = given.encode("utf-8", "surrogateescape")
    found = False
    for key in allowed:
        found |= secrets.compare_digest(given_bytes, key.get_secret_value().encode("utf-8", "surrogateescape"))
    return found


def require_api_key(settings: SettingsDep, key: Annotated[str | None, Security(_api_key_header)]) -> None:
    """When API keys are configured, the request must carry one of them in ``X-API-Key``."""
    if not settings.api_keys:
        return
    if key is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")
    if not key_matches(key, settings.api_keys):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid API key")


ApiKeyDep = Depends(require_api_key)


def require_write_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> None:
    """Writes need ``Authorization: Bearer <key>`` with a configured write key; none configured: 403."""
    keys: list[SecretStr] = request.app.state.write_keys
    if not keys:
        raise HTTPException(status.HTTP_403_FORBIDDEN, WRITES_DISABLED)
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing 'Authorization: Bearer <key>' header (a write key)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not key_matches(credentials.credentials, keys):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid write key")


WriteKeyDep = Depends(require_write_key)
