"""``GET /faq``: every FAQ question answered from the articles, computed once per index and cached."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.datastructures import State

from api.deps import PipelineDep
from api.routes.ask import answer_public
from api.schemas import AskResponse
from rag.pipeline import QAPipeline

__all__ = ["FaqItem", "FaqResponse", "faq_answers", "prime_faq_cache", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["faq"])


class FaqItem(AskResponse):
    """One FAQ question: the FAQ document's own answer and the answer composed from the articles."""

    reference_answer: str = Field(..., description="The answer written in the FAQ document (not from the articles)")
    faq_doc_id: str = Field(..., description="The FAQ document the question comes from")


class FaqResponse(BaseModel):
    corpus_fingerprint: str | None = Field(..., description="Of the index the answers were composed from")
    built_at: str | None = Field(..., description="When that index was built")
    computed_at: str = Field(..., description="When these answers were composed (UTC)")
    compute_seconds: float
    items: list[FaqItem]


@dataclass(frozen=True)
class _CacheEntry:
    pipeline: QAPipeline
    key: tuple[Any, ...]
    response: FaqResponse


_lock = threading.Lock()


def _cache_key(pipeline: QAPipeline) -> tuple[Any, ...]:
    """What the answers depend on besides the pipeline object: the index build and the questions."""
    manifest = pipeline.store.manifest
    questions = tuple((faq.doc_id, pair.question, pair.answer) for faq in pipeline.faq for pair in faq.pairs)
    return manifest.get("corpus_fingerprint"), manifest.get("built_at"), questions


def _compute(pipeline: QAPipeline) -> FaqResponse:
    started = time.perf_counter()
    items = []
    for faq in pipeline.faq:
        for pair in faq.pairs:
            public = answer_public(pipeline.ask(pair.question))
            items.append(FaqItem(**public.model_dump(), reference_answer=pair.answer, faq_doc_id=faq.doc_id))
    seconds = time.perf_counter() - started
    manifest = pipeline.store.manifest
    log.info("composed %d FAQ answers in %.2fs", len(items), seconds)
    return FaqResponse(
        corpus_fingerprint=manifest.get("corpus_fingerprint"),
        built_at=manifest.get("built_at"),
        computed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        compute_seconds=round(seconds, 4),
        items=items,
    )


def faq_answers(state: State, pipeline: QAPipeline) -> FaqResponse:
    """The FAQ answers for ``pipeline``, cached on ``state`` until the pipeline or its index changes."""
    key = _cache_key(pipeline)
    entry: _CacheEntry | None = getattr(state, "faq_cache", None)
    if entry is not None and entry.pipeline is pipeline and entry.key == key:
        return entry.response
    with _lock:
        entry = getattr(state, "faq_cache", None)
        if entry is not None and entry.pipeline is pipeline and entry.key == key:
            return entry.response
        response = _compute(pipeline)
        if getattr(state, "pipeline", pipeline) is pipeline:  # a request still on a replaced pipeline: no caching
            state.faq_cache = _CacheEntry(pipeline, key, response)
        return response


def prime_faq_cache(state: State, pipeline: QAPipeline) -> None:
    """Compose ``pipeline``'s FAQ answers before it replaces the current one (a write's swap), so readers
    of the new pipeline find them ready and the FAQ always matches the index it is served with."""
    response = _compute(pipeline)
    with _lock:
        state.faq_cache = _CacheEntry(pipeline, _cache_key(pipeline), response)


@router.get("/faq", response_model=FaqResponse)
def faq(request: Request, pipeline: PipelineDep) -> FaqResponse:
    """The FAQ document's questions, each answered from the articles (cached per index build)."""
    return faq_answers(request.app.state, pipeline)
