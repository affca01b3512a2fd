"""BM25 over a list of texts (bm25s with an English stemmer and stop words)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

__all__ = ["LexicalIndex", "SparseScores", "content_terms", "content_terms_many"]

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


class SparseScores:
    """BM25 scores of the texts holding at least one query term (every other text scores 0).

    bm25s adds the query terms' postings into one array (its own work is the postings, not the corpus);
    the rows with a score are kept, so ranking and lookups touch the matching texts only and never sort
    the whole corpus. (Collecting the rows from the postings with ``np.unique`` instead was 18 times
    slower at 20,000 passages than the scan of that array, and the array is 4 MB at a million.)
    """

    def __init__(self, rows: np.ndarray, values: np.ndarray) -> None:
        self.rows = rows
        """Rows with a nonzero score, ascending."""
        self.values = values

    def __getitem__(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Scores of ``rows`` (0 for a text without any query term)."""
        wanted = np.asarray(rows, dtype=np.int64).reshape(-1)
        if not self.rows.size or not wanted.size:
            return np.zeros(wanted.size, dtype=np.float32)
        at = np.minimum(np.searchsorted(self.rows, wanted), self.rows.size - 1)
        return np.where(self.rows[at] == wanted, self.values[at], np.float32(0.0)).astype(np.float32)

    @property
    def size(self) -> int:
        """Texts with a nonzero score."""
        return int(self.rows.size)

    def max(self) -> float:
        return float(self.values.max()) if self.values.size else 0.0

    def top(self, k: int) -> list[tuple[int, float]]:
        """The ``k`` best rows with a positive score, best first, ties by row (as a stable sort of all
        scores would give), selecting among the matching texts only."""
        positive = self.values > 0
        rows, values = self.rows[positive], self.values[positive]
        if k < 1 or not rows.size:
            return []
        if rows.size > k:
            kth = np.partition(values, rows.size - k)[rows.size - k]
            above = np.flatnonzero(values > kth)
            tied = np.flatnonzero(values == kth)[: k - above.size]
            keep = np.concatenate([above, tied])
            rows, values = rows[keep], values[keep]
        order = np.lexsort((rows, -values))
        return [(int(rows[i]), float(values[i])) for i in order]


class LexicalIndex:
    """Scores every text against a query with BM25."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if texts:
            tokens = bm25s.tokenize(list(texts), stemmer=_STEMMER, show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def save(self, directory: Path) -> None:
        """Write the index to ``directory`` (bm25s's own files; nothing for an empty index)."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._bm25.save(str(directory))

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        """The index :meth:`save` wrote to ``directory``, which must hold ``size`` texts; a ValueError naming
        the directory if it cannot be read."""
        index = cls([])
        index.size = size
        if size == 0:
            return index
        try:
            index._bm25 = bm25s.BM25.load(str(directory))
            found = int(index._bm25.scores["num_docs"])
        except Exception as exc:  # bm25s and numpy raise many kinds on a damaged file
            raise ValueError(f"{directory}: {type(exc).__name__}: {exc}") from exc
        if found != size:
            raise ValueError(f"{directory} holds {found} texts, not {size}")
        return index

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text (zeros when no query term is known)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.float32)
        terms = content_terms(query)
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def sparse_scores(self, query: str) -> SparseScores:
        """:meth:`scores` as the rows holding a query term and their scores (see :class:`SparseScores`)."""
        full = self.scores(query)
        rows = np.flatnonzero(full)
        return SparseScores(rows, full[rows])

    def scores_at(self, query: str, rows: Sequence[int] | np.ndarray) -> SparseScores:
        """:meth:`sparse_scores` restricted to ``rows``: the same values there (0 elsewhere), read from each
        query term's postings at those rows only, so the cost does not grow with the corpus."""
        wanted = np.unique(np.asarray(rows, dtype=np.int64).reshape(-1))
        empty = SparseScores(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        if self.size == 0 or not wanted.size:
            return empty
        terms = content_terms(query)
        ids = self._bm25.get_tokens_ids(terms) if terms else []
        if not ids:
            return empty
        if self._bm25.nonoccurrence_array is not None:  # BM25L/BM25+ give every text a score: read them all
            full = self.scores(query)[wanted]
            keep = np.flatnonzero(full)
            return SparseScores(wanted[keep], full[keep])
        matrix = self._bm25.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        values = np.zeros(wanted.size, dtype=np.float32)
        for token in ids:  # in query order, repeats included, as bm25s adds them
            start, end = int(indptr[token]), int(indptr[token + 1])
            if start == end:
                continue
            postings = indices[start:end]  # the texts holding the term, ascending
            at = np.minimum(np.searchsorted(postings, wanted), end - start - 1)
            values += np.where(postings[at] == wanted, data[start + at], np.float32(0.0)).astype(np.float32)
        keep = np.flatnonzero(values)
        return SparseScores(wanted[keep], values[keep])

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """The best ``k`` rows with a positive score, best first, ties by row; chosen among the texts
        holding a query term, never by sorting the whole corpus."""
        return self.sparse_scores(query).top(k)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top ``k`` rows with a positive score, best first, ties by row (the same as :meth:`top`)."""
        return self.top(query, k)
