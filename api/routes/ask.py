from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.deps import AnswerCacheDep, PipelineDep, SettingsDep
from api.schemas import AskRequest, AskResponse, ErrorResponse
from rag.answer import Answer
from rag.serialize import answer_to_dict

router = APIRouter(tags=["answers"])


def answer_public(answer: Answer) -> AskResponse:
    """The library's plain answer data (:func:`rag.serialize.answer_to_dict`), validated by the response model."""
    return AskResponse.model_validate(answer_to_dict(answer))


def server_timing(timings: dict[str, float]) -> str:
    """A ``Server-Timing`` header value: ``encode;dur=5.1, passages;dur=2.0, ...`` (milliseconds)."""
    return ", ".join(f"{stage};dur={ms:.1f}" for stage, ms in timings.items())


@router.post("/ask", response_model=AskResponse, responses={422: {"model": ErrorResponse}})
def ask(
    body: AskRequest,
    request: Request,
    response: Response,
    pipeline: PipelineDep,
    settings: SettingsDep,
    cache: AnswerCacheDep,
) -> AskResponse:
    """Answer a question with sentences copied from the articles, each cited by offsets.

    The ``Server-Timing`` header gives each stage's milliseconds (``cache`` alone when a repeated
    question is answered from the answer cache, ``RAG_ANSWER_CACHE_SIZE``).
    """
    if len(body.question) > settings.max_question_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"question is {len(body.question)} characters long; the limit is {settings.max_question_chars}",
        )
    if body.top_k is not None and body.top_k > settings.max_top_k:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"top_k must be between 1 and {settings.max_top_k}, got {body.top_k}"
        )
    metrics = request.app.state.metrics
    key = (body.question, body.top_k, body.max_sentences)
    started = time.perf_counter()
    cached = cache.get(pipeline, key)  # always None when the cache is off: nothing is ever stored
    if cached is not None:
        public = cached
        response.headers["Server-Timing"] = server_timing({"cache": (time.perf_counter() - started) * 1000})
        metrics.answer_cache.labels("hit").inc()
    else:
        timings: dict[str, float] = {}
        answer = pipeline.ask(body.question, top_k=body.top_k, max_sentences=body.max_sentences, timings=timings)
        public = answer_public(answer)
        response.headers["Server-Timing"] = server_timing(timings)
        for stage, ms in timings.items():
            metrics.ask_stage.labels(stage).observe(ms / 1000)
        if cache.enabled:
            metrics.answer_cache.labels("miss").inc()
            cache.put(pipeline, key, public, current=getattr(request.app.state, "pipeline", None))
    request.state.log_fields = {
        "question_chars": len(body.question),
        "abstained": public.abstained,
        "citations": len(public.citations),
        "cached": cached is not None,
    }
    metrics.answers.labels(str(public.abstained).lower()).inc()
    return public
