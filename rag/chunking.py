"""Cut cleaned documents into sentences and overlapping passages, keeping offsets."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from rag.documents import Document, Passage, Sentence
from rag.segment import looks_like_heading, split_sentences

__all__ = ["ChunkingParams", "passages_of", "sentences_of"]


@dataclass(frozen=True)
class ChunkingParams:
    """How passages are cut; recorded in the index manifest."""

    passage_sentences: int = 3
    passage_overlap: int = 1
    passage_max_chars: int = 800

    def __post_init__(self) -> None:
        if self.passage_sentences < 1:
            raise ValueError("passage_sentences must be at least 1")
        if not 0 <= self.passage_overlap < self.passage_sentences:
            raise ValueError("passage_overlap must be at least 0 and less than passage_sentences")
        if self.passage_max_chars < 50:
            raise ValueError("passage_max_chars must be at least 50")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


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
