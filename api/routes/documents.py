from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.deps import PipelineDep
from api.schemas import DocumentList, DocumentPublic, DocumentSummary, ErrorResponse
from rag.documents import Document

router = APIRouter(tags=["documents"])


def _summary(document: Document) -> dict[str, object]:
    return {
        "doc_id": document.doc_id,
        "title": document.title,
        "source": document.source,
        "url": document.url,
        "published": document.published,
        "author": document.author,
        "chars": len(document.text),
    }


@router.get("/documents", response_model=DocumentList)
def list_documents(pipeline: PipelineDep) -> DocumentList:
    """The indexed articles."""
    documents = sorted(pipeline.store.documents.values(), key=lambda d: d.doc_id)
    return DocumentList(documents=[DocumentSummary.model_validate(_summary(d)) for d in documents])


@router.get("/documents/{doc_id}", response_model=DocumentPublic, responses={404: {"model": ErrorResponse}})
def get_document(doc_id: str, pipeline: PipelineDep) -> DocumentPublic:
    """One article with its full original text, so a client can highlight ``text[start:end]``."""
    document = pipeline.store.documents.get(doc_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document with id '{doc_id}'")
    return DocumentPublic.model_validate({**_summary(document), "text": document.text})
