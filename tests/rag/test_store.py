from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.chunking import ChunkingParams
from rag.embedding import HashingEmbedder
from rag.ingest import load_documents
from rag.pipeline import open_index
from rag.retrieval import HybridRetriever
from rag.store import (
    IndexCorruptError,
    IndexDirectoryError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexStore,
)
from tests.conftest import SEEDS

QUERIES = ["How many Ukrainians could be released?", "Istanbul agreements", "meeting of national security advisors"]


@pytest.fixture(scope="module")
def articles() -> list:
    return load_documents([SEEDS])[0]


@pytest.fixture()
def saved(tmp_path: Path, articles: list) -> tuple[IndexStore, Path]:
    store, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams())
    return store, store.save(tmp_path / "idx")


def test_save_load_search_gives_identical_results(saved: tuple[IndexStore, Path]) -> None:
    store, path = saved
    loaded = IndexStore.load(path)
    before = HybridRetriever(store, HashingEmbedder())
    after = HybridRetriever(loaded, HashingEmbedder())
    for query in QUERIES:
        a, b = before.search(query, 5), after.search(query, 5)
        assert [(p.passage.passage_id, p.score) for p in a] == [(p.passage.passage_id, p.score) for p in b]
    assert np.array_equal(store.sentence_vectors(), loaded.sentence_vectors())
    assert loaded.manifest["counts"] == store.manifest["counts"]


def test_manifest_says_how_the_index_was_built(saved: tuple[IndexStore, Path]) -> None:
    _, path = saved
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model"] == {"name": "hashing-256", "weights_hash": "none", "dimension": 256}
    assert manifest["chunking"] == {
        "passage_sentences": 3,
        "passage_overlap": 1,
        "passage_max_chars": 800,
        "sentence_title_context": 0.5,
    }
    assert set(manifest["documents"]) == {
        "000_547d51fb02376e96",
        "001_da2890c1c1429775",
        "002_40c1d57616b0398b",
        "003_6085d973d4879d11",
    }
    assert {"faiss-cpu", "numpy", "python"} <= set(manifest["libraries"])
    assert manifest["built_at"] and manifest["build_seconds"] >= 0 and manifest["rag_version"]
    assert len(manifest["corpus_fingerprint"]) == 32


@pytest.mark.parametrize("name", ["passages.faiss", "sentences.jsonl"])
def test_truncated_file_fails_loudly_and_names_it(saved: tuple[IndexStore, Path], name: str) -> None:
    _, path = saved
    target = path / name
    target.write_bytes(target.read_bytes()[:-20])
    with pytest.raises(IndexCorruptError, match=str(target).replace(".", r"\.")):
        IndexStore.load(path)


def test_edited_file_with_same_size_is_caught(saved: tuple[IndexStore, Path]) -> None:
    _, path = saved
    target = path / "passages.jsonl"
    data = bytearray(target.read_bytes())
    data[10] = ord("Z") if data[10] != ord("Z") else ord("Y")
    target.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="sha256"):
        IndexStore.load(path)


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="rag index"):
        IndexStore.load(tmp_path / "nothing")


def test_a_directory_of_other_files_is_neither_read_nor_replaced(tmp_path: Path, articles: list) -> None:
    # Saving renames the target aside and deletes it: pointed at a directory of someone's files, it must refuse.
    foreign = tmp_path / "papers"
    (foreign / "drafts").mkdir(parents=True)
    (foreign / "notes.txt").write_text("keep me")
    (foreign / "drafts" / "a.md").write_text("and me")
    store, _ = IndexStore.build(articles, HashingEmbedder(), ChunkingParams())
    with pytest.raises(IndexDirectoryError, match=r"papers holds other files and no manifest.json"):
        store.save(foreign)
    with pytest.raises(IndexDirectoryError, match="not an index"):
        IndexStore.load(foreign)
    with pytest.raises(IndexDirectoryError, match="not an index"):
        open_index(articles, HashingEmbedder(), ChunkingParams(), foreign, rebuild=True)
    assert (foreign / "notes.txt").read_text() == "keep me" and (foreign / "drafts" / "a.md").read_text() == "and me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["papers"]  # no staging or retired directory left
    with pytest.raises(IndexDirectoryError, match="is not a directory"):
        store.save(foreign / "notes.txt")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert IndexStore.load(store.save(empty)).manifest["counts"] == store.manifest["counts"]


def test_other_model_or_chunking_is_refused_with_rebuild_hint(saved: tuple[IndexStore, Path], articles: list) -> None:
    _, path = saved
    with pytest.raises(IndexMismatchError, match=r"built with model 'hashing-256'.*rag index --rebuild"):
        open_index(articles, HashingEmbedder(128), ChunkingParams(), path)
    with pytest.raises(IndexMismatchError, match="chunking"):
        open_index(articles, HashingEmbedder(), ChunkingParams(passage_sentences=4), path)
    store, status = open_index(articles, HashingEmbedder(128), ChunkingParams(), path, rebuild=True)
    assert status.action == "built" and store.manifest["model"]["dimension"] == 128


def test_crash_while_saving_keeps_the_old_index(
    saved: tuple[IndexStore, Path], monkeypatch: pytest.MonkeyPatch, articles: list
) -> None:
    store, path = saved
    before = (path / "manifest.json").read_bytes()
    import rag.store

    def explode(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(rag.store.faiss, "write_index", explode)
    with pytest.raises(OSError, match="disk full"):
        store.save(path)
    assert (path / "manifest.json").read_bytes() == before
    IndexStore.load(path)
    assert [p.name for p in path.parent.iterdir()] == ["idx"]


def test_adding_a_document_embeds_only_the_new_one(tmp_path: Path, articles: list) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for document in articles:
        (corpus / f"{document.doc_id}.txt").write_text(document.text, encoding="utf-8")
    embedder = HashingEmbedder()
    first, status = open_index(load_documents([corpus])[0], embedder, ChunkingParams(), tmp_path / "idx")
    assert status.action == "built"
    embedded_before = embedder.texts_embedded
    (corpus / "new.txt").write_text("Extra story\nA new exchange freed 84 people. Families waited.", encoding="utf-8")
    second, status = open_index(load_documents([corpus])[0], embedder, ChunkingParams(), tmp_path / "idx")
    assert status.action == "updated"
    assert status.stats is not None and (status.stats.documents_reused, status.stats.documents_embedded) == (4, 1)
    new_texts = embedder.texts_embedded - embedded_before
    # each sentence is embedded alone and with its title (blended), each passage once
    assert new_texts == 2 * sum(1 for s in second.sentences if s.doc_id == "new") + sum(
        1 for p in second.passages if p.doc_id == "new"
    )
    assert status.stats.texts_embedded == new_texts
    old_rows = [i for i, s in enumerate(second.sentences) if s.doc_id != "new"]
    assert np.array_equal(second.sentence_vectors()[old_rows], first.sentence_vectors())
    third, status = open_index(load_documents([corpus])[0], embedder, ChunkingParams(), tmp_path / "idx")
    assert status.action == "loaded" and third.manifest["corpus_fingerprint"] == second.manifest["corpus_fingerprint"]


class _OtherRuntime(HashingEmbedder):
    """The same model name, other weights (as RAG_ENCODER=onnx-int8 is to torch)."""

    @property
    def weights_hash(self) -> str:
        return "none+onnx-int8"


def test_an_index_from_another_encoder_of_the_same_model_is_re_embedded_not_mixed(tmp_path: Path) -> None:
    articles, _ = load_documents([SEEDS])
    path = tmp_path / "idx"
    open_index(articles, HashingEmbedder(), ChunkingParams(), path)
    store, status = open_index(articles, _OtherRuntime(), ChunkingParams(), path)
    assert status.action == "updated"
    assert status.stats is not None and status.stats.documents_embedded == len(articles)
    assert store.manifest["model"]["weights_hash"] == "none+onnx-int8"
    assert store.manifest["encoder"] == {"runtime": "_OtherRuntime"}
    _, again = open_index(articles, _OtherRuntime(), ChunkingParams(), path)
    assert again.action == "loaded"


def test_a_rebuild_that_reuses_documents_equals_a_fresh_build(tmp_path: Path, articles: list) -> None:
    embedder, params = HashingEmbedder(), ChunkingParams()
    (tmp_path / "0-first.txt").write_text("Early story\nA swap freed 12 people on Monday. Families waited.\n")
    [extra] = load_documents([tmp_path / "0-first.txt"])[0]
    previous, _ = IndexStore.build(articles, embedder, params)
    # The new document sorts first, so every reused document's rows move and must be renumbered.
    rebuilt, stats = IndexStore.build([*articles, extra], embedder, params, previous=previous)
    fresh, _ = IndexStore.build([*articles, extra], HashingEmbedder(), params)
    assert (stats.documents_reused, stats.documents_embedded) == (len(articles), 1)
    assert rebuilt.sentences == fresh.sentences and rebuilt.passages == fresh.passages
    assert rebuilt.entities == fresh.entities
    assert np.allclose(rebuilt.sentence_vectors(), fresh.sentence_vectors())
    assert np.allclose(rebuilt.passage_vectors(), fresh.passage_vectors())
    by_document = rebuilt.rows_by_document()
    assert by_document[extra.doc_id][0] == list(range(len(by_document[extra.doc_id][0]))) != []
    assert sorted(r for rows, _ in by_document.values() for r in rows) == list(range(len(rebuilt.sentences)))
