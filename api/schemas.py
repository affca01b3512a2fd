"""Request and response models of the HTTP API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        ..., description="The question, in plain text", examples=["How many Ukrainians does Kyiv hope to free?"]
    )
    top_k: int | None = Field(None, ge=1, description="Passages to consider (default from settings)")
    max_sentences: int | None = Field(None, ge=1, le=10, description="Most sentences in the answer (default 3)")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
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
    answer_type: str = Field(..., description="What the question asks for: quantity, date, person, organisation, ...")
    short_answer: ShortAnswerPublic | None = Field(
        None, description="The entity, number or date that answers a factoid question, copied from the first citation"
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
