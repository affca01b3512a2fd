"""Compose an extractive answer from ranked sentences: relevant, not redundant, cited."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rag.retrieval import ScoredSentence
from rag.store import IndexStore

__all__ = [
    "ABSTAIN_MESSAGE",
    "DEFAULT_ABSTAIN_THRESHOLD",
    "Answer",
    "AnswerComposer",
    "AnswerSentence",
    "Citation",
    "ComposerParams",
]

ABSTAIN_MESSAGE = "The articles do not answer this question."
# Best balanced abstention accuracy on tests/data/dev_gold.jsonl (`rag eval`, see docs/evaluation.md).
DEFAULT_ABSTAIN_THRESHOLD = 0.33


@dataclass(frozen=True)
class Citation:
    id: int
    doc_id: str
    title: str
    source: str | None
    url: str | None
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    confidence: float
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    debug: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ComposerParams:
    max_sentences: int = 3
    mmr_lambda: float = 0.7
    relative_cutoff: float = 0.85
    """A sentence after the first is kept only if its score is at least this share of the best."""
    duplicate_similarity: float = 0.9
    """Sentences at least this similar (cosine) say the same thing: shown once, all cited."""
    abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD
    confidence_dense_weight: float = 0.1
    lexical_saturation: float = 6.0
    """BM25 score at which the lexical half of the confidence reaches 0.5."""
    confidence_evidence_sentences: int = 2
    """How many of the best sentences' passages the confidence reads its BM25 evidence from."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= 10:
            raise ValueError("max_sentences must be between 1 and 10")
        for name in (
            "mmr_lambda",
            "relative_cutoff",
            "duplicate_similarity",
            "abstain_threshold",
            "confidence_dense_weight",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.lexical_saturation <= 0:
            raise ValueError("lexical_saturation must be positive")
        if self.confidence_evidence_sentences < 1:
            raise ValueError("confidence_evidence_sentences must be at least 1")


def _normalised(text: str) -> str:
    return re.sub(r"\W+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


class AnswerComposer:
    """Picks up to ``max_sentences`` sentences by MMR, merges near-duplicates, and abstains
    when the confidence is below ``abstain_threshold``."""

    def __init__(self, store: IndexStore, sentence_vectors: np.ndarray, params: ComposerParams | None = None) -> None:
        self.store = store
        self.sentence_vectors = sentence_vectors
        self.params = params or ComposerParams()

    def confidence(self, ranked: Sequence[ScoredSentence], params: ComposerParams) -> float:
        """How sure the answer is: the best sentence's cosine similarity blended with the strongest
        BM25 score among the passages of the ``confidence_evidence_sentences`` best sentences.

        BM25 rewards sharing the question's rare words, which off-topic and absent-fact questions
        rarely do; ``score / (score + lexical_saturation)`` maps it into [0, 1).
        """
        dense = min(max(ranked[0].dense, 0.0), 1.0)
        raw = max(s.passage_lexical for s in ranked[: params.confidence_evidence_sentences])
        lexical = raw / (raw + params.lexical_saturation) if raw > 0 else 0.0
        w = params.confidence_dense_weight
        return round(w * dense + (1 - w) * lexical, 4)

    def compose(self, question: str, ranked: Sequence[ScoredSentence], **overrides: Any) -> Answer:
        params = replace(self.params, **overrides) if overrides else self.params
        if not ranked:
            return Answer(question, ABSTAIN_MESSAGE, True, 0.0)
        best = ranked[0]
        confidence = self.confidence(ranked, params)
        if confidence < params.abstain_threshold:
            return Answer(question, ABSTAIN_MESSAGE, True, confidence, debug={"best_score": best.score})
        groups = self._select(ranked, params)
        return self._render(question, confidence, groups)

    def _similar(self, a: ScoredSentence, b: ScoredSentence) -> float:
        return float(self.sentence_vectors[a.row] @ self.sentence_vectors[b.row])

    def _select(self, ranked: Sequence[ScoredSentence], params: ComposerParams) -> list[list[ScoredSentence]]:
        """MMR selection; each group is a chosen sentence followed by its near-duplicates elsewhere."""
        best = ranked[0]
        groups: list[list[ScoredSentence]] = [[best]]
        pool = list(ranked[1:])
        while pool:
            # Near-duplicates of a chosen sentence become citations of it, not new sentences.
            remaining = []
            for candidate in pool:
                for group in groups:
                    if (
                        _normalised(candidate.sentence.text) == _normalised(group[0].sentence.text)
                        or self._similar(candidate, group[0]) >= params.duplicate_similarity
                    ):
                        if all(member.sentence.doc_id != candidate.sentence.doc_id for member in group):
                            group.append(candidate)
                        break
                else:
                    remaining.append(candidate)
            pool = remaining
            if len(groups) >= params.max_sentences or not pool:
                break
            eligible = [c for c in pool if c.score >= params.relative_cutoff * best.score]
            if not eligible:
                break
            chosen = max(
                eligible,
                key=lambda c: (
                    params.mmr_lambda * c.score - (1 - params.mmr_lambda) * max(self._similar(c, g[0]) for g in groups)
                ),
            )
            groups.append([chosen])
            pool = [c for c in pool if c is not chosen]
        return groups

    def _render(self, question: str, confidence: float, groups: list[list[ScoredSentence]]) -> Answer:
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for group in groups:
            ids = []
            for member in group:
                sentence = member.sentence
                document = self.store.documents[sentence.doc_id]
                citation = Citation(
                    id=len(citations) + 1,
                    doc_id=sentence.doc_id,
                    title=document.title,
                    source=document.source,
                    url=document.url,
                    text=sentence.text,
                    start=sentence.start,
                    end=sentence.end,
                    score=round(member.score, 4),
                )
                citations.append(citation)
                ids.append(citation.id)
            sentences.append(AnswerSentence(group[0].sentence.text, tuple(ids)))
        text = " ".join(s.text + " " + "".join(f"[{i}]" for i in s.citations) for s in sentences)
        return Answer(question, text, False, confidence, tuple(sentences), tuple(citations))
