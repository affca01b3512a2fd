"""Cut cleaned documents into sentences and overlapping passages, keeping offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from rag.documents import Document, Passage, Sentence
from rag.embedding import Embedder
from rag.segment import looks_like_heading, split_sentences

__all__ = ["ChunkingParams", "embed_sentences", "passages_of", "sentence_forms_embedded", "sentences_of"]


@dataclass(frozen=True)
class ChunkingParams:
    """How passages are cut and what text is embedded; recorded in the index manifest."""

    passage_sentences: int = 3
    passage_overlap: int = 1
    passage_max_chars: int = 800
    sentence_title_context: float = 0.5
    """Share of the embedding of ``"{title}: {sentence}"`` in a sentence's vector, the rest being the
    sentence alone: a sentence that leaves its subject to the headline ("He said the talks stalled")
    is still found by a question that names it, without every sentence sounding like its headline."""

    def __post_init__(self) -> None:
        if self.passage_sentences < 1:
            raise ValueError("passage_sentences must be at least 1")
        if not 0 <= self.passage_overlap < self.passage_sentences:
            raise ValueError("passage_overlap must be at least 0 and less than passage_sentences")
        if self.passage_max_chars < 50:
            raise ValueError("passage_max_chars must be at least 50")
        if not 0.0 <= self.sentence_title_context <= 1.0:
            raise ValueError("sentence_title_context must be between 0 and 1")

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


def _title_share(title: str, params: ChunkingParams) -> float:
    return params.sentence_title_context if title else 0.0


def sentence_forms_embedded(title: str, params: ChunkingParams) -> int:
    """How many texts :func:`embed_sentences` embeds per sentence (1, or 2 when it blends)."""
    return 2 if 0.0 < _title_share(title, params) < 1.0 else 1


def embed_sentences(embedder: Embedder, title: str, sentences: Sequence[str], params: ChunkingParams) -> np.ndarray:
    """Unit vectors of ``sentences``, blended with their ``"{title}: {sentence}"`` embeddings as
    ``params.sentence_title_context`` says; citations always keep the sentence alone."""
    share = _title_share(title, params)
    if share == 0.0 or not sentences:
        return embedder.embed(list(sentences))
    titled = embedder.embed([f"{title}: {s}" for s in sentences])
    if share == 1.0:
        return titled
    blended = (1.0 - share) * embedder.embed(list(sentences)) + share * titled
    norms = np.linalg.norm(blended, axis=1, keepdims=True)
    return (blended / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def sentences_of(document: Document) -> list[Sentence]:
    """Every sentence of the document's kept blocks, in reading order."""
    sentences: list[Sentence] = []
    for block in document.blocks:
        spans = split_sentences(document.text, block.start, block.end, line_breaks=False)
        for start, end in spans:
            text = document.text[start:end]
            heading = len(spans) == 1 and looks_like_heading(text)
            sentences.append(Sentence(document.doc_id, start, end, text, block.section, heading))
    return sentences


def _passage_id(document: Document, start: int, end: int) -> str:
    key = f"{document.content_hash}:{start}:{end}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


def passages_of(
    document: Document, sentences: list[Sentence], first_sentence_id: int, params: ChunkingParams
) -> list[Passage]:
    """Windows of up to ``passage_sentences`` sentences that never cross a section break.

    ``sentences`` are this document's sentences, stored from position ``first_sentence_id``
    in the index's sentence table; a passage records those positions.
    """
    passages: list[Passage] = []
    step = params.passage_sentences - params.passage_overlap
    by_section: dict[int, list[int]] = {}
    for offset, sentence in enumerate(sentences):
        by_section.setdefault(sentence.section, []).append(offset)
    for members in by_section.values():
        cursor = 0
        while cursor < len(members):
            window = [members[cursor]]
            for offset in members[cursor + 1 : cursor + params.passage_sentences]:
                if sentences[offset].end - sentences[window[0]].start > params.passage_max_chars:
                    break
                window.append(offset)
            start, end = sentences[window[0]].start, sentences[window[-1]].end
            passages.append(
                Passage(
                    passage_id=_passage_id(document, start, end),
                    doc_id=document.doc_id,
                    start=start,
                    end=end,
                    text=document.text[start:end],
                    sentence_ids=tuple(first_sentence_id + o for o in window),
                )
            )
            if cursor + len(window) >= len(members):
                break
            cursor += max(1, min(step, len(window) - params.passage_overlap))
    return passages
