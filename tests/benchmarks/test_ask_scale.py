"""The replicated corpus of benchmarks/ask_scale.py: copies that cite their own text, and a pipeline over them."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.ask_scale import percentiles, replicate_store, staged_ask
from rag.ann import AnnParams
from rag.pipeline import QAPipeline
from tests.conftest import assert_citations_verbatim


def test_copies_keep_offsets_sentence_rows_and_unit_vectors(fake_pipeline: QAPipeline) -> None:
    seed = fake_pipeline.store
    store = replicate_store(seed, 3, noise=0.05)
    assert len(store.documents) == 3 * len(seed.documents)
    assert len(store.sentences) == 3 * len(seed.sentences) == store.sentence_index.ntotal
    assert len(store.passages) == 3 * len(seed.passages) == store.passage_index.ntotal
    assert len(store.entities) == len(store.sentences)
    assert store.manifest["counts"]["passages"] == len(store.passages)
    for passage in store.passages:
        document = store.documents[passage.doc_id]
        assert document.text[passage.start : passage.end] == passage.text
        for row in passage.sentence_ids:
            sentence = store.sentences[row]
            assert sentence.doc_id == passage.doc_id
            assert document.text[sentence.start : sentence.end] == sentence.text
    assert len({d.title for d in store.documents.values()}) > len(seed.documents)
    vectors = store.sentence_vectors()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Noisy copies: near their original, not equal to it.
    original = seed.sentence_vectors()
    similarity = np.sum(vectors[len(original) : 2 * len(original)] * original, axis=1)
    assert np.all(similarity < 0.9999) and np.all(similarity > 0.3)


def test_a_large_copy_gets_the_approximate_index_the_service_would_build(fake_pipeline: QAPipeline) -> None:
    seed = fake_pipeline.store
    copies = -(-400 // len(seed.passages))
    store = replicate_store(seed, copies, ann=AnnParams(threshold=100, ivf_threshold=200))
    assert store.manifest["passage_index"]["kind"] == "ivf"


def test_the_staged_ask_answers_like_ask_and_cites_its_own_copy(fake_pipeline: QAPipeline) -> None:
    store = replicate_store(fake_pipeline.store, 2)
    large = fake_pipeline.with_store(store)
    question = "How many Ukrainians does Kyiv hope to free?"
    times, answer = staged_ask(large, question)
    assert answer == large.ask(question)
    assert set(times) == {"encode", "passages", "sentences", "rerank", "compose", "ask"}
    assert times["ask"] == pytest.approx(sum(v for k, v in times.items() if k != "ask"))
    assert_citations_verbatim(answer, {d: doc.text for d, doc in store.documents.items()})


def test_copies_must_be_positive(fake_pipeline: QAPipeline) -> None:
    with pytest.raises(ValueError, match="copies"):
        replicate_store(fake_pipeline.store, 0)


def test_percentiles_are_the_median_and_the_95th() -> None:
    assert percentiles([float(i) for i in range(1, 102)]) == (51.0, 96.0)
