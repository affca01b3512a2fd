"""Reading articles (public, or behind the read keys) and writing them (behind a write key)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, status

from api.deps import PipelineDep, SettingsDep, WriterDep
from api.schemas import ArticlesIn, DocumentList, DocumentPublic, DocumentSummary, ErrorResponse, WriteResponse
from rag.corpus import ArticleRecord, DocumentNotFoundError, JournalError, WriteConflictError, WriteResult
from rag.documents import Document
from rag.ingest import IngestError
from rag.store import IndexStoreError

router = APIRouter(tags=["documents"])
write_router = APIRouter(tags=["writes"])

_WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No 'Authorization: Bearer <key>' header"},
    403: {"model": ErrorResponse, "description": "Writes are disabled (no key configured) or the key is wrong"},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse, "description": "The write journal is damaged"},
    507: {"model": ErrorResponse, "description": "The index could not be saved (disk full?)"},
}


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


def _public(result: WriteResult) -> WriteResponse:
    return WriteResponse.model_validate(vars(result))


def _apply(action: str, run: Callable[[], WriteResult]) -> WriteResponse:
    """Run a writer call, turning its refusals into 4xx/5xx answers that say what happened."""
    try:
        result = run()
    except DocumentNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document with id '{exc.args[0]}'") from None
    except WriteConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except JournalError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{action} refused: {exc}") from None
    except IngestError as exc:  # a seed file that cannot be read, found by a reindex
        raise HTTPException(status.HTTP_409_CONFLICT, f"{action} refused: {exc}") from None
    except IndexStoreError as exc:  # the shared store (database) cannot be reached or used
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{action} not applied: {exc}") from None
    except OSError as exc:
        raise HTTPException(
            status.HTTP_507_INSUFFICIENT_STORAGE, f"{action} not applied: the index could not be saved ({exc})"
        ) from None
    return _public(result)


# Write routes are plain ``def``: FastAPI runs them in a worker thread, so embedding and fsync never block
# the event loop, and the writer's lock serialises them.
@write_router.post(
    "/documents", response_model=WriteResponse, responses={**_WRITE_ERRORS, 409: {"model": ErrorResponse}}
)
def put_documents(
    body: Annotated[ArticlesIn, Body(description="One article or a list of articles")],
    writer: WriterDep,
    settings: SettingsDep,
) -> WriteResponse:
    """Add articles, or replace those with the same ids; only changed articles are embedded."""
    articles = body if isinstance(body, list) else [body]
    if not articles:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the list of articles is empty")
    if len(articles) > settings.max_documents_per_write:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{len(articles)} articles in one write; the limit is {settings.max_documents_per_write}",
        )
    seen: set[str] = set()
    for number, article in enumerate(articles):
        where = f"articles.{number}" if isinstance(body, list) else "article"
        if article.id in seen:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{where}: id '{article.id}' appears twice")
        seen.add(article.id)
        if len(article.text) > settings.max_document_chars:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"{where}.text: {len(article.text)} characters; the limit is {settings.max_document_chars}",
            )
    records = [ArticleRecord(**{**a.model_dump(exclude={"id"}), "id": a.id}) for a in articles]
    return _apply("write", lambda: writer.put(records))


@write_router.delete(
    "/documents/{doc_id}", response_model=WriteResponse, responses={**_WRITE_ERRORS, 404: {"model": ErrorResponse}}
)
def delete_document(doc_id: str, writer: WriterDep) -> WriteResponse:
    """Remove an article; it stays removed after a restart, even if it came from the seed files."""
    return _apply("delete", lambda: writer.delete(doc_id))


@write_router.post("/reindex", response_model=WriteResponse, responses={**_WRITE_ERRORS, 409: {"model": ErrorResponse}})
def reindex(
    writer: WriterDep,
    full: Annotated[bool, Query(description="Re-embed every article, not only the changed ones")] = False,
    compact: Annotated[bool, Query(description="Rewrite the journal without superseded records first")] = False,
) -> WriteResponse:
    """Re-read the seed files and the written corpus and bring the index up to date, without a restart."""
    return _apply("reindex", lambda: writer.reindex(full=full, compact=compact))
