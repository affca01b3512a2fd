"""Hybrid retrieval: dense (FAISS) and lexical (BM25) passage search fused, then sentences
scored within the retrieved passages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np

from rag.documents import Passage, Sentence
from rag.embedding import Embedder
from rag.lexical import LexicalIndex
from rag.store import IndexStore

__all__ = [
    "Fusion",
    "HybridRetriever",
    "PassageRetriever",
    "RetrievalParams",
    "ScoredPassage",
    "ScoredSentence",
]

Fusion = Literal["rrf", "weighted", "dense", "bm25"]
FUSIONS: tuple[str, ...] = ("rrf", "weighted", "dense", "bm25")
# Fields that shape the BM25 indexes, so they are fixed when the retriever is built.
INDEX_FIELDS = frozenset({"sentence_bm25_k1", "sentence_bm25_b", "lexical_title_context"})


@dataclass(frozen=True)
class RetrievalParams:
    """Defaults set at construction; any field can be overridden per call."""

    fusion: Fusion = "weighted"
    depth: int = 50
    """Candidates taken from each retriever before fusion."""
    rrf_k: int = 60
    dense_weight: float = 0.5
    """Share of the dense score in weighted passage fusion (the rest is normalised BM25)."""
    sentence_dense_weight: float = 0.8
    sentence_lexical_weight: float = 0.3
    sentence_passage_weight: float = 0.2
    sentence_bm25_k1: float = 0.5
    """Term-frequency saturation of sentence BM25: low, since a sentence rarely repeats a term on purpose."""
    sentence_bm25_b: float = 0.3
    """Length normalisation of sentence BM25: mild, so long sentences that answer are not penalised."""
    lexical_title_context: bool = True
    """BM25 of sentences and passages also sees the document title (``"{title}: {text}"``)."""

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if self.depth < 1:
            raise ValueError("depth must be at least 1")
        if self.rrf_k < 1:
            raise ValueError("rrf_k must be at least 1")
        for name in ("dense_weight", "sentence_dense_weight", "sentence_lexical_weight", "sentence_passage_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.sentence_bm25_k1 < 0:
            raise ValueError("sentence_bm25_k1 must not be negative")
        if not 0.0 <= self.sentence_bm25_b <= 1.0:
            raise ValueError("sentence_bm25_b must be between 0 and 1")


@dataclass(frozen=True)
class ScoredPassage:
    row: int
    passage: Passage
    score: float
    dense: float
    lexical: float
    """Raw BM25 of the passage text alone (no title)."""


@dataclass(frozen=True)
class ScoredSentence:
    row: int
    sentence: Sentence
    score: float
    dense: float
    lexical: float
    passage_score: float
    passage_lexical: float = 0.0
    """Best raw BM25 score among the retrieved passages that hold this sentence."""


class PassageRetriever(Protocol):
    """Anything that ranks passages for a question."""

    def search(self, query: str, k: int, **overrides: Any) -> list[ScoredPassage]: ...


def _unit_max(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


class HybridRetriever:
    """Fuses FAISS and BM25 passage rankings, and ranks the sentences of the best passages."""

    def __init__(self, store: IndexStore, embedder: Embedder, params: RetrievalParams | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params or RetrievalParams()
        self._passage_bm25 = LexicalIndex(self._lexical_texts(store.passages))
        # The evidence a passage itself holds (ScoredPassage.lexical, read by the answer's confidence)
        # is scored without the title, which every passage of a document shares.
        self._passage_evidence_bm25 = (
            LexicalIndex([p.text for p in store.passages]) if self.params.lexical_title_context else self._passage_bm25
        )
        self._sentence_bm25 = LexicalIndex(
            self._lexical_texts(store.sentences), k1=self.params.sentence_bm25_k1, b=self.params.sentence_bm25_b
        )
        self._sentence_vectors = store.sentence_vectors() if store.sentences else np.zeros((0, 1), np.float32)
        self._passage_vectors = store.passage_vectors() if store.passages else np.zeros((0, 1), np.float32)

    def _lexical_texts(self, records: Sequence[Passage] | Sequence[Sentence]) -> list[str]:
        if not self.params.lexical_title_context:
            return [r.text for r in records]
        return [f"{self.store.documents[r.doc_id].title}: {r.text}" for r in records]

    def _params(self, overrides: dict[str, Any]) -> RetrievalParams:
        fixed = INDEX_FIELDS & overrides.keys()
        if fixed:
            raise ValueError(f"{', '.join(sorted(fixed))} shape the BM25 indexes: set them when building the retriever")
        return replace(self.params, **overrides) if overrides else self.params

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def search(
        self, query: str, k: int, *, query_vector: np.ndarray | None = None, **overrides: Any
    ) -> list[ScoredPassage]:
        """The ``k`` best passages for ``query``."""
        if k < 1:
            raise ValueError("k must be at least 1")
        params = self._params(overrides)
        total = len(self.store.passages)
        if total == 0:
            return []
        vector = self.embed_query(query) if query_vector is None else query_vector
        depth = min(max(params.depth, k), total)
        found_scores, found_rows = self.store.passage_index.search(
            np.asarray(vector, dtype=np.float32).reshape(1, -1), depth
        )
        dense_rank = [int(row) for row in found_rows[0] if row >= 0]
        dense: dict[int, float] = {row: float(s) for row, s in zip(dense_rank, found_scores[0], strict=False)}
        lexical_all = self._passage_bm25.scores(query)
        lexical_rank = [int(i) for i in np.argsort(-lexical_all, kind="stable")[:depth] if lexical_all[i] > 0]
        lexical_norm = _unit_max(lexical_all)
        missing = [row for row in lexical_rank if row not in dense]
        if missing:
            dense.update(zip(missing, (self._passage_vectors[missing] @ vector).tolist(), strict=True))
        fused: dict[int, float] = {}
        if params.fusion == "dense":
            fused = {row: dense[row] for row in dense_rank}
        elif params.fusion == "bm25":
            fused = {row: float(lexical_norm[row]) for row in lexical_rank}
        elif params.fusion == "rrf":
            for ranking in (dense_rank, lexical_rank):
                for rank, row in enumerate(ranking):
                    fused[row] = fused.get(row, 0.0) + 1.0 / (params.rrf_k + rank + 1)
        else:
            w = params.dense_weight
            fused = {row: w * dense[row] + (1 - w) * float(lexical_norm[row]) for row in dense}
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        evidence = (
            self._passage_evidence_bm25.scores(query)
            if self._passage_evidence_bm25 is not self._passage_bm25
            else lexical_all
        )
        return [
            ScoredPassage(row, self.store.passages[row], score, dense[row], float(evidence[row]))
            for row, score in ranked
        ]

    def rank_sentences(
        self,
        query: str,
        passages: Sequence[ScoredPassage],
        *,
        query_vector: np.ndarray | None = None,
        include_headings: bool = False,
        **overrides: Any,
    ) -> list[ScoredSentence]:
        """Score every sentence of ``passages``: dense similarity, BM25 and its passage's score."""
        params = self._params(overrides)
        if not passages:
            return []
        vector = self.embed_query(query) if query_vector is None else query_vector
        best = max(p.score for p in passages)
        floor = min(p.score for p in passages)
        spread = best - floor
        passage_score: dict[int, float] = {}
        passage_lexical: dict[int, float] = {}
        for scored in passages:
            relative = (scored.score - floor) / spread if spread > 0 else 1.0
            for row in scored.passage.sentence_ids:
                passage_score[row] = max(passage_score.get(row, 0.0), relative)
                passage_lexical[row] = max(passage_lexical.get(row, 0.0), scored.lexical)
        rows = [r for r in passage_score if include_headings or not self.store.sentences[r].is_heading]
        if not rows:
            return []
        row_array = np.asarray(rows)
        dense = self._sentence_vectors[row_array] @ vector
        lexical_all = self._sentence_bm25.scores(query)
        lexical = lexical_all[row_array]
        lexical_norm = _unit_max(lexical)
        scored_sentences = []
        for position, row in enumerate(rows):
            score = (
                params.sentence_dense_weight * float(dense[position])
                + params.sentence_lexical_weight * float(lexical_norm[position])
                + params.sentence_passage_weight * passage_score[row]
            )
            scored_sentences.append(
                ScoredSentence(
                    row,
                    self.store.sentences[row],
                    score,
                    float(dense[position]),
                    float(lexical[position]),
                    passage_score[row],
                    passage_lexical[row],
                )
            )
        scored_sentences.sort(key=lambda s: (-s.score, s.row))
        return scored_sentences

    def sentence_vector(self, row: int) -> np.ndarray:
        return self._sentence_vectors[row]
