"""Request and response models of the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from rag.answer import MAX_ANSWER_SENTENCES
from rag.text import is_blank, nul_position


def valid_unicode(value: str) -> str:
    """Refuse text that cannot be encoded as UTF-8 (lone surrogates such as ``"\\ud800"`` are valid JSON)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"contains a lone surrogate (U+{ord(value[exc.start]):04X} at position {exc.start}), "
            "which is not valid Unicode text"
        ) from None
    return value


UnicodeText = Annotated[str, AfterValidator(valid_unicode)]
"""A string that is valid Unicode text; every string from a request that reaches the pipeline is one."""


def storable(value: str) -> str:
    """Refuse U+0000: it is not text, and a PostgreSQL store cannot hold it."""
    position = nul_position(value)
    if position is not None:
        raise ValueError(f"contains a NUL character (U+0000 at position {position}), which cannot be stored")
    return value


StoredText = Annotated[UnicodeText, AfterValidator(storable)]
"""Valid Unicode text that a store can keep: every field of a written article is one."""


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: UnicodeText = Field(
        ..., description="The question, in plain text", examples=["How many Ukrainians does Kyiv hope to free?"]
    )
    # Strict: JSON true is not the number 1, and "3" is not 3.
    top_k: int | None = Field(None, ge=1, strict=True, description="Passages to consider (default from settings)")
    max_sentences: int | None = Field(
        None, ge=1, le=MAX_ANSWER_SENTENCES, strict=True, description="Most sentences in the answer (default 3)"
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if is_blank(value):
            raise ValueError("question must not be empty or whitespace")
        return value


class CitationPublic(BaseModel):
    id: int = Field(..., description="Number used by the [n] markers")
    doc_id: str
    title: str
    source: str | None
    url: str | None
    text: str = Field(..., description="Exactly document[start:end]")
    start: int
    end: int
    score: float


class AnswerSentencePublic(BaseModel):
    text: str
    citations: list[int]


class ShortAnswerPublic(BaseModel):
    text: str = Field(..., description="Exactly document[start:end], inside the first citation")
    doc_id: str
    start: int
    end: int


class AskResponse(BaseModel):
    question: str
    answer: str
    abstained: bool
    confidence: float
    support: Literal["answer", "partial", "none"] = Field(
        ...,
        description="'answer': confident; 'partial': the articles discuss the subject, with weaker evidence; "
        "'none': abstained",
    )
    answer_type: str = Field(
        ..., description="What the question asks for: quantity, date, duration, person, organisation, ..."
    )
    short_answer: ShortAnswerPublic | None = Field(
        None,
        description="The phrase that answers the question, copied from the first citation: the entity, number or "
        "date a factoid question asks for, or the words its wording points to; null when there is none",
    )
    sentences: list[AnswerSentencePublic]
    citations: list[CitationPublic]


class SearchHit(BaseModel):
    rank: int
    passage_id: str
    doc_id: str
    title: str
    text: str = Field(..., description="Exactly document[start:end]")
    start: int
    end: int
    score: float
    dense_score: float
    lexical_score: float


class SearchResponse(BaseModel):
    query: str
    k: int
    hits: list[SearchHit]


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: str | None
    author: str | None
    chars: int


class DocumentPublic(DocumentSummary):
    text: str = Field(..., description="The original text; citation offsets index into it")


class DocumentList(BaseModel):
    documents: list[DocumentSummary]


class HealthResponse(BaseModel):
    status: str
    version: str
    model: str
    documents: int
    passages: int
    sentences: int
    index: dict[str, Any]


class ErrorResponse(BaseModel):
    detail: str | list[dict[str, Any]]


DOCUMENT_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$"


class ArticleIn(BaseModel):
    """An article to add, or to replace the one with the same id (the JSONL seed record format)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        ...,
        pattern=DOCUMENT_ID_PATTERN,
        description="1-200 characters: letters, digits, '_', '.', ':', '-' (not starting with '.', ':' or '-')",
        examples=["2026-11-23-reuters-ceasefire"],
    )
    title: StoredText | None = Field(None, max_length=1000, description="Default: the first line of the text")
    text: StoredText = Field(..., description="The article; citation offsets will index into it")
    url: StoredText | None = Field(None, max_length=2000)
    published: StoredText | None = Field(None, max_length=100)
    source: StoredText | None = Field(None, max_length=200)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if is_blank(value):
            raise ValueError("text must not be empty or whitespace")
        return value


def _one_or_many(value: Any) -> str:
    return "articles" if isinstance(value, list) else "article"


ArticlesIn = Annotated[
    Annotated[ArticleIn, Tag("article")] | Annotated[list[ArticleIn], Tag("articles")], Discriminator(_one_or_many)
]
"""One article or a list; errors are located as ``article.text`` or ``articles.3.id``."""


class WriteResponse(BaseModel):
    """What a write changed; the index on disk and the running service already reflect it."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]
    deleted: list[str]
    documents: int = Field(..., description="Articles in the index after the write")
    documents_embedded: int
    documents_reused: int
    seconds: float
    corpus_fingerprint: str | None
    journal_records_dropped: int = Field(0, description="Superseded journal records removed by ?compact=true")
