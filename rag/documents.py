"""Records the pipeline passes around: documents and the spans cut from them."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


def content_hash(text: str) -> str:
    """Stable short hash of a text, used as a content id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Block:
    """A paragraph of the original text that survived cleaning."""

    start: int
    end: int
    section: int
    """Blocks in one section are contiguous in the cleaned text (no dropped block between them)."""


@dataclass
class Document:
    """An article: its original text and metadata. Offsets elsewhere refer to ``text``."""

    doc_id: str
    text: str
    title: str = ""
    source: str | None = None
    url: str | None = None
    published: str | None = None
    author: str | None = None
    path: str | None = None
    blocks: list[Block] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocks"] = [[b.start, b.end, b.section] for b in self.blocks]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        blocks = [Block(int(s), int(e), int(sec)) for s, e, sec in data.get("blocks", [])]
        fields = {k: v for k, v in data.items() if k != "blocks"}
        return cls(**fields, blocks=blocks)


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document: ``document.text[start:end] == text``."""

    doc_id: str
    start: int
    end: int
    text: str
    section: int = 0
    is_heading: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A window of consecutive sentences: ``document.text[start:end] == text``."""

    passage_id: str
    doc_id: str
    start: int
    end: int
    text: str
    sentence_ids: tuple[int, ...]
    """Positions of this passage's sentences in the index's sentence table."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sentence_ids"] = list(self.sentence_ids)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(**{**data, "sentence_ids": tuple(data["sentence_ids"])})
