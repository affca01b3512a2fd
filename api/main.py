"""The FastAPI application: routes are thin; the pipeline is loaded once in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from api.answer_cache import AnswerCache
from api.deps import ApiKeyDep, WriteKeyDep
from api.middleware import BodySizeLimitMiddleware, RequestTimeoutMiddleware
from api.observability import Metrics, install
from api.routes import ask, documents, faq, health, pages, search
from api.schemas import ErrorResponse
from rag import __version__
from rag.config import Settings, get_settings
from rag.corpus import CorpusWriter
from rag.pipeline import QAPipeline, build_pipeline
from rag.store import IndexStoreError

log = logging.getLogger("api")


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
    for error in errors:
        error.pop("input", None)  # never echo a (possibly huge or secret) input back
        error.pop("ctx", None)
    return JSONResponse(
        {"detail": _describe(errors), "errors": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    """The shared store (the database) failed during a request: 503, naming it (password masked)."""
    log.error("store unavailable on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error; see the service log"}, status_code=500)


def _record_index(metrics: Metrics, pipeline: QAPipeline) -> None:
    store = pipeline.store
    metrics.index_documents.set(len(store.documents))
    metrics.index_passages.set(len(store.passages))
    metrics.index_sentences.set(len(store.sentences))
    metrics.index_build_seconds.set(float(store.manifest.get("build_seconds") or 0.0))
    if pipeline.index_status is not None:
        metrics.index_open_seconds.set(pipeline.index_status.seconds)
    load_seconds = getattr(pipeline.embedder, "load_seconds", None)
    if load_seconds is not None:
        metrics.model_load_seconds.set(load_seconds)


_WRITE_PATHS = ("/documents", "/reindex")


def _is_write(scope: Scope) -> bool:
    """Writes are never cut short by the request timeout (a client must not be told a committed write failed)."""
    path = str(scope.get("path", ""))
    return scope.get("method") in ("POST", "DELETE") and path.startswith(_WRITE_PATHS)


def create_app(settings: Settings | None = None, pipeline: QAPipeline | None = None) -> FastAPI:
    """Build the app. Without ``pipeline``, the lifespan loads (or builds) the index from settings."""
    settings = settings or get_settings()
    write_keys = settings.all_write_keys()  # read once: a missing key file fails at start-up, not per request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.pipeline is None:
            app.state.pipeline = build_pipeline(settings)
            app.state.pipeline.warm_up(writes=bool(write_keys))
        elif write_keys:
            app.state.pipeline.warm_up(writes=True)  # models already loaded return at once
        _record_index(app.state.metrics, app.state.pipeline)
        yield

    app = FastAPI(
        title="News Q&A",
        version=__version__,
        summary="Extractive answers copied from news articles, each cited by document offsets.",
        lifespan=lifespan,
        # What the guards in front of every route can answer (see api/middleware.py).
        responses={
            400: {"model": ErrorResponse, "description": "The body is not UTF-8 JSON, or Content-Length is bad"},
            413: {"model": ErrorResponse, "description": "The request body is over RAG_MAX_BODY_BYTES"},
            504: {"model": ErrorResponse, "description": "The request took over RAG_REQUEST_TIMEOUT_SECONDS"},
        },
    )
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.metrics = Metrics()
    app.state.answer_cache = AnswerCache(settings.answer_cache_size)
    app.state.write_keys = write_keys

    def publish(new: QAPipeline) -> None:
        """Make a written pipeline current (in the writer's thread): its FAQ answers are composed first,
        then one reference assignment swaps it in."""
        faq.prime_faq_cache(app.state, new)
        app.state.pipeline = new
        _record_index(app.state.metrics, new)

    app.state.writer = CorpusWriter(settings, lambda: app.state.pipeline, publish)
    # Added first, so they sit inside the metrics middleware: refused requests are counted and logged.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTimeoutMiddleware, seconds=settings.request_timeout_seconds, exempt=_is_write)
    install(app, app.state.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization"],
        )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IndexStoreError, _store_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.include_router(health.router)
    app.include_router(faq.router)  # public: the reader's page and its FAQ need no API key
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return app.state.metrics.render()

    for router in (ask.router, search.router, documents.router):
        app.include_router(router, dependencies=[ApiKeyDep])
    # Writes need a write key (Authorization: Bearer), whether or not reads need an X-API-Key.
    app.include_router(documents.write_router, dependencies=[WriteKeyDep])
    return app
