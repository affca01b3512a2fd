from __future__ import annotations

import numpy as np
import pytest

from benchmarks.build_encode_once import SENTENCES_TWICE, candidate_build, verdict
from rag.chunking import ChunkingParams, sentences_of
from rag.embedding import HashingEmbedder
from rag.ingest import load_documents
from rag.store import IndexStore
from tests.conftest import SEEDS


def test_verdict_names_what_candidates_gain_and_lose_when_none_is_kept() -> None:
    text = verdict({"a": False, "b": False}, {"dev mrr": None}, {"dev first": None, "faq sas": None})
    assert text.startswith("The shipped build is kept")
    assert "gain dev mrr" in text
    assert "lose dev first, faq sas" in text


def test_verdict_names_the_candidates_no_worse_than_shipped() -> None:
    assert verdict({"a": False, "b": True}, {"dev mrr": None}, {"dev first": None}) == (
        "No metric is worse than shipped for: b."
    )


def _passage_vectors(store: IndexStore) -> np.ndarray:
    return store.passage_vectors_at(range(len(store.passages)))


@pytest.fixture(scope="module")
def articles() -> list:
    return load_documents([SEEDS])[0]


def test_passages_from_sentences_keeps_the_shipped_sentence_vectors(articles: list) -> None:
    embedder, params = HashingEmbedder(), ChunkingParams()
    shipped, _ = IndexStore.build(articles, embedder, params)
    with candidate_build(embedder, SENTENCES_TWICE) as wrapped:
        candidate, _ = IndexStore.build(articles, wrapped, params)
    np.testing.assert_array_equal(candidate.sentence_vectors(), shipped.sentence_vectors())
    alone = np.vstack(
        [embedder.embed([s.text for s in sentences_of(d)]) for d in sorted(articles, key=lambda d: d.doc_id)]
    )
    for passage, vector in zip(candidate.passages, _passage_vectors(candidate), strict=True):
        mean = alone[list(passage.sentence_ids)].mean(axis=0)
        np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), atol=1e-6)
    assert not np.allclose(_passage_vectors(candidate), _passage_vectors(shipped))


def test_encode_once_changes_the_sentence_vectors_and_the_build_is_restored_after(articles: list) -> None:
    embedder, params = HashingEmbedder(), ChunkingParams()
    shipped, _ = IndexStore.build(articles, embedder, params)
    with candidate_build(embedder, 0.3) as wrapped:
        candidate, _ = IndexStore.build(articles, wrapped, params)
    assert not np.allclose(candidate.sentence_vectors(), shipped.sentence_vectors())
    again, _ = IndexStore.build(articles, embedder, params)
    np.testing.assert_array_equal(again.sentence_vectors(), shipped.sentence_vectors())
    np.testing.assert_array_equal(_passage_vectors(again), _passage_vectors(shipped))
