from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import PipelineDep, SettingsDep
from api.schemas import ErrorResponse, SearchHit, SearchResponse
from rag.text import is_blank

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResponse, responses={422: {"model": ErrorResponse}})
def search(
    pipeline: PipelineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="Search text")],
    k: Annotated[int, Query(ge=1, description="Number of passages")] = 10,
) -> SearchResponse:
    """Passages ranked by hybrid (dense + BM25) retrieval, with offsets into their documents."""
    if is_blank(q):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "q must not be empty or whitespace")
    if len(q) > settings.max_question_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"q is {len(q)} characters long; the limit is {settings.max_question_chars}",
        )
    if k > settings.max_top_k:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"k must be between 1 and {settings.max_top_k}, got {k}"
        )
    hits = []
    for rank, scored in enumerate(pipeline.search(q, k), start=1):
        passage = scored.passage
        hits.append(
            SearchHit(
                rank=rank,
                passage_id=passage.passage_id,
                doc_id=passage.doc_id,
                title=pipeline.store.documents[passage.doc_id].title,
                text=passage.text,
                start=passage.start,
                end=passage.end,
                score=round(scored.score, 6),
                dense_score=round(scored.dense, 6),
                lexical_score=round(scored.lexical, 6),
            )
        )
    return SearchResponse(query=q, k=k, hits=hits)
