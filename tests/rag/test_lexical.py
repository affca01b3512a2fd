"""BM25's top-k from the query terms' postings equals the top of the whole-corpus scoring."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rag.lexical import LexicalIndex, content_terms, content_terms_many

WORDS = "apple banana cherry date elder fig grape honey iris jade kiwi lemon mango".split()


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    pick = random.Random(0)
    return LexicalIndex([" ".join(pick.choices(WORDS, k=pick.randint(1, 12))) for _ in range(2000)])


@pytest.mark.parametrize("query", ["apple kiwi", "mango", "grape grape honey fig", "zzz unknown", "the of"])
@pytest.mark.parametrize("k", [1, 10, 50, 5000])
def test_top_k_equals_the_top_of_the_full_scoring(index: LexicalIndex, query: str, k: int) -> None:
    scores = index.scores(query)
    expected = [(int(i), float(scores[i])) for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0]
    assert index.top(query, k) == expected  # ties (many here) broken by row, as the stable sort does


@pytest.mark.parametrize("query", ["apple kiwi", "mango lemon", "zzz"])
def test_sparse_scores_are_the_full_scores_bit_for_bit(index: LexicalIndex, query: str) -> None:
    scores = index.scores(query)
    sparse = index.sparse_scores(query)
    assert np.array_equal(sparse[np.arange(index.size)], scores)
    assert sparse.size == int(np.count_nonzero(scores)) and sparse.max() == float(scores.max())
    assert sparse[[5, 5, 1999]].tolist() == scores[[5, 5, 1999]].tolist()


def test_an_empty_index_scores_nothing() -> None:
    empty = LexicalIndex([])
    assert empty.top("apple", 5) == [] and empty.sparse_scores("apple").size == 0


@pytest.mark.parametrize("query", ["apple kiwi", "grape grape honey fig", "mango lemon banana", "zzz", "the of"])
def test_scores_at_rows_are_the_full_scores_there_bit_for_bit(index: LexicalIndex, query: str) -> None:
    scores = index.scores(query)
    pick = random.Random(1)
    rows = [pick.randrange(index.size) for _ in range(300)] + [0, index.size - 1, 7, 7]
    found = index.scores_at(query, rows)
    assert np.array_equal(found[rows], scores[rows])
    assert found.size == int(np.count_nonzero(scores[sorted(set(rows))]))
    assert index.scores_at(query, []).size == 0


def test_scores_at_every_row_is_sparse_scores(index: LexicalIndex) -> None:
    everything = index.scores_at("apple kiwi", np.arange(index.size))
    sparse = index.sparse_scores("apple kiwi")
    assert np.array_equal(everything.rows, sparse.rows) and np.array_equal(everything.values, sparse.values)
    assert LexicalIndex([]).scores_at("apple", [0]).size == 0


def test_terms_of_many_texts_in_one_call_are_each_text_s_own() -> None:
    texts = ["Ukraine hopes to resume prisoner exchanges, Zelenskyy says", "", "The the of", "Türkiye’s role", "a b"]
    assert content_terms_many(texts) == [content_terms(t) for t in texts]
