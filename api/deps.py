"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from rag.config import Settings
from rag.pipeline import QAPipeline

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_pipeline(request: Request) -> QAPipeline:
    pipeline: QAPipeline | None = getattr(request.app.state, "pipeline", None)
    if pipeline is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the index is not loaded yet")
    return pipeline


PipelineDep = Annotated[QAPipeline, Depends(get_pipeline)]


def require_api_key(settings: SettingsDep, key: Annotated[str | None, Security(_api_key_header)]) -> None:
    """When API keys are configured, the request must carry one of them in ``X-API-Key``."""
    if not settings.api_keys:
        return
    if key is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")
    if not any(secrets.compare_digest(key, allowed.get_secret_value()) for allowed in settings.api_keys):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid API key")


ApiKeyDep = Depends(require_api_key)
