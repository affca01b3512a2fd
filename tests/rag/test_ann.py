"""The passage index chosen by size (rag/ann.py) and how the store saves and loads it."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.ann import AnnParams, build_index, configure, kind_of
from rag.chunking import ChunkingParams
from rag.embedding import HashingEmbedder
from rag.ingest import load_documents
from rag.retrieval import HybridRetriever
from rag.store import IndexCorruptError, IndexStore
from tests.conftest import SEEDS

QUERIES = ["How many Ukrainians could be released?", "Istanbul agreements", "meeting of national security advisors"]


@pytest.fixture(scope="module")
def articles() -> list:
    return load_documents([SEEDS])[0]


def _unit(rows: int, dimension: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _recall_at_10(index: faiss.Index, exact: faiss.Index, queries: np.ndarray) -> float:
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found, strict=True)]))


def test_auto_is_flat_below_the_threshold_hnsw_from_it_and_ivf_from_the_second(articles: list) -> None:
    small, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams())
    passages = len(small.passages)
    assert kind_of(small.passage_index) == "flat" and small.manifest["passage_index"]["kind"] == "flat"
    above, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams(), ann=AnnParams(threshold=passages))
    assert kind_of(above.passage_index) == "hnsw"
    below, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams(), ann=AnnParams(threshold=passages + 1))
    assert kind_of(below.passage_index) == "flat"
    largest = AnnParams(threshold=2, ivf_threshold=passages)
    assert [largest.kind_for(n) for n in (1, 2, passages - 1, passages)] == ["flat", "hnsw", "hnsw", "ivf"]


def test_hnsw_saved_and_loaded_searches_the_same_and_the_manifest_records_it(tmp_path: Path, articles: list) -> None:
    ann = AnnParams(threshold=1, hnsw_m=8, hnsw_ef_construction=40, hnsw_ef_search=20)
    store, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams(), ann=ann)
    path = store.save(tmp_path / "idx")
    record = json.loads((path / "manifest.json").read_text())["passage_index"]
    assert record["kind"] == "hnsw" and record["quantize"] == "none"
    assert (record["m"], record["ef_construction"], record["ef_search"]) == (8, 40, 20)
    assert record["passages"] == len(store.passages)
    assert record["index_bytes"] == (path / "passages.faiss").stat().st_size
    assert record["bytes_per_passage"] > 4 * 256  # the float32 vector plus its graph links
    loaded = IndexStore.load(path)
    assert faiss.downcast_index(loaded.passage_index).hnsw.efSearch == 20  # from the manifest, not faiss's 16
    before, after = HybridRetriever(store, HashingEmbedder()), HybridRetriever(loaded, HashingEmbedder())
    embedder = HashingEmbedder()
    for query in QUERIES:
        vector = embedder.embed([query])[0]
        assert store.search_passages(vector, 30) == loaded.search_passages(vector, 30)
        a, b = before.search(query, 5), after.search(query, 5)
        assert [(p.row, p.score) for p in a] == [(p.row, p.score) for p in b]


def test_an_older_manifest_without_the_record_loads_as_flat(tmp_path: Path, articles: list) -> None:
    store, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams())
    path = store.save(tmp_path / "idx")
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["passage_index"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    loaded = IndexStore.load(path)
    assert kind_of(loaded.passage_index) == "flat" and loaded.ann_record["kind"] == "flat"
    vector = HashingEmbedder().embed([QUERIES[0]])[0]
    assert loaded.search_passages(vector, 10) == store.search_passages(vector, 10)


def test_a_manifest_naming_another_index_kind_than_the_file_is_refused(tmp_path: Path, articles: list) -> None:
    store, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams())
    path = store.save(tmp_path / "idx")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["passage_index"].update(kind="hnsw", ef_search=64)
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="records a hnsw passage index but the file holds a flat one"):
        IndexStore.load(path)


def test_hnsw_recall_against_exact_search() -> None:
    vectors, queries = _unit(3000, 32, 0), _unit(200, 32, 1)
    exact, _ = build_index(vectors, 32, AnnParams(kind="flat"))
    hnsw, record = build_index(vectors, 32, AnnParams(kind="hnsw", hnsw_m=16, hnsw_ef_search=64))
    assert record["kind"] == "hnsw"
    assert _recall_at_10(hnsw, exact, queries) >= 0.9


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_sq8_recall_against_exact_search(kind: str) -> None:
    vectors, queries = _unit(3000, 32, 2), _unit(200, 32, 3)
    exact, _ = build_index(vectors, 32, AnnParams(kind="flat"))
    sq8, record = build_index(vectors, 32, AnnParams(kind=kind, quantize="sq8", hnsw_m=16, hnsw_ef_search=64))  # type: ignore[arg-type]
    assert record["quantize"] == "sq8"
    assert _recall_at_10(sq8, exact, queries) >= 0.9
    assert np.allclose(sq8.reconstruct(7), vectors[7], atol=0.02)  # rows read back decoded, close to the originals


def test_ivf_finds_the_vectors_and_reads_rows_back() -> None:
    vectors = _unit(2000, 16, 4)
    ivf, record = build_index(vectors, 16, AnnParams(kind="ivf", ivf_nprobe=4))
    assert (record["kind"], record["nprobe"]) == ("ivf", 4) and record["nlist"] >= 1
    assert faiss.extract_index_ivf(ivf).nprobe == 4
    _, rows = ivf.search(vectors[:50], 1)
    assert (rows[:, 0] == np.arange(50)).mean() >= 0.9  # each vector is its own nearest
    assert np.array_equal(ivf.reconstruct(11), vectors[11])
    configure(ivf, record)


def test_hnsw_returns_k_rows_even_when_k_exceeds_ef_search(articles: list) -> None:
    store, _ = IndexStore.build(
        articles, HashingEmbedder(), ChunkingParams(), ann=AnnParams(threshold=1, hnsw_ef_search=4)
    )
    _, rows = store.search_passages(HashingEmbedder().embed([QUERIES[1]])[0], 25)
    assert len(rows) == min(25, len(store.passages)) and len(set(rows)) == len(rows)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "annoy"}, "ann must be one of auto, flat, hnsw, ivf, not 'annoy'"),
        ({"quantize": "pq"}, "quantize must be one of none, sq8, not 'pq'"),
        ({"threshold": 0}, "threshold must be an integer from 1"),
        ({"hnsw_m": 2}, "hnsw_m must be an integer from 4 to 256, not 2"),
    ],
)
def test_bad_parameters_are_refused_clearly(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnnParams(**kwargs)  # type: ignore[arg-type]
