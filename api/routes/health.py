from __future__ import annotations

from fastapi import APIRouter

from api.deps import PipelineDep
from api.schemas import HealthResponse
from rag import __version__

router = APIRouter(tags=["operations"])

_MANIFEST_KEYS = (
    "model",
    "chunking",
    "corpus_fingerprint",
    "built_at",
    "build_seconds",
    "rag_version",
    "pipeline_version",
    "libraries",
    "counts",
)


@router.get("/health", response_model=HealthResponse)
def health(pipeline: PipelineDep) -> HealthResponse:
    """Liveness and what is loaded: model, index manifest, counts."""
    store = pipeline.store
    return HealthResponse(
        status="ok",
        version=__version__,
        model=pipeline.embedder.model_name,
        documents=len(store.documents),
        passages=len(store.passages),
        sentences=len(store.sentences),
        index={key: store.manifest.get(key) for key in _MANIFEST_KEYS},
    )
