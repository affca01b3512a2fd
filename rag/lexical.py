"""BM25 over a list of texts (bm25s with an English stemmer and stop words)."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

__all__ = ["LexicalIndex", "content_terms", "content_terms_many"]

_STEMMER = Stemmer.Stemmer("english")


def content_terms(text: str) -> list[str]:
    """Stemmed, lower-cased, stop-word-free terms of ``text``, as BM25 sees them."""
    tokens = bm25s.tokenize([text], stemmer=_STEMMER, return_ids=False, show_progress=False)
    return list(tokens[0]) if tokens else []


def content_terms_many(texts: Sequence[str]) -> list[list[str]]:
    """:func:`content_terms` of many texts in one call."""
    if not texts:
        return []
    tokens = bm25s.tokenize(list(texts), stemmer=_STEMMER, return_ids=False, show_progress=False)
    return [list(t) for t in tokens]


class LexicalIndex:
    """Scores every text against a query with BM25."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if texts:
            tokens = bm25s.tokenize(list(texts), stemmer=_STEMMER, show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text (zeros when no query term is known)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.float32)
        terms = content_terms(query)
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top ``k`` rows with a positive score, best first."""
        scores = self.scores(query)
        if scores.size == 0:
            return []
        k = min(k, scores.size)
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
        return [(i, float(scores[i])) for i in ranked if scores[i] > 0]
