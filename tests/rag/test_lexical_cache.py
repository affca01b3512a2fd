"""Saved BM25 indexes: save -> load -> the same rankings; a damaged or stale set is rebuilt, never read."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.lexical import LexicalIndex
from rag.lexical_cache import MARKER, LexicalSpec, TableSpec, lexical_digest, load_or_build
from rag.pipeline import QAPipeline
from rag.retrieval import HybridRetriever

QUESTIONS = ["How many Ukrainians does Kyiv hope to free?", "Which country mediates the exchanges?", "zzz"]


def _rankings(retriever: HybridRetriever) -> list[object]:
    out: list[object] = []
    for question in QUESTIONS:
        passages = retriever.search(question, 8)
        out.append([(p.row, p.score, p.lexical) for p in passages])
        out.append([(s.row, s.score, s.lexical) for s in retriever.rank_sentences(question, passages)])
    return out


def _builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    built: list[int] = []
    original = LexicalSpec.build

    def counting(self: LexicalSpec) -> LexicalIndex:
        built.append(len(self.texts))
        return original(self)

    monkeypatch.setattr(LexicalSpec, "build", counting)
    return built


def test_a_saved_set_loads_and_ranks_exactly_as_a_built_one(
    fake_pipeline: QAPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, embedder = fake_pipeline.store, HashingEmbedder()
    expected = _rankings(HybridRetriever(store, embedder))
    built = _builds(monkeypatch)
    first = HybridRetriever(store, embedder, lexical_dir=tmp_path)
    assert len(built) == 3  # passages, passage evidence, sentences
    [saved] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (saved / MARKER).is_file()
    second = HybridRetriever(store, embedder, lexical_dir=tmp_path)
    assert len(built) == 3  # loaded, not built
    assert _rankings(first) == expected == _rankings(second)
    for table in ("_sentence_terms", "_title_terms", "_vocabulary", "_term_df"):
        assert getattr(second, table) == getattr(first, table), table


def test_a_truncated_file_is_named_and_the_set_rebuilt(
    fake_pipeline: QAPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store, embedder = fake_pipeline.store, HashingEmbedder()
    expected = _rankings(HybridRetriever(store, embedder, lexical_dir=tmp_path))
    [saved] = [p for p in tmp_path.iterdir() if p.is_dir()]
    damaged = next(p for p in sorted((saved / "sentences").iterdir()) if p.suffix == ".npy")
    damaged.write_bytes(damaged.read_bytes()[:20])
    built = _builds(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="rag.lexical_cache"):
        retriever = HybridRetriever(store, embedder, lexical_dir=tmp_path)
    assert str(saved / "sentences") in caplog.text and "rebuilding" in caplog.text
    assert len(built) == 3
    assert _rankings(retriever) == expected
    assert LexicalIndex.load(saved / "sentences", len(store.sentences)).size == len(store.sentences)  # re-saved


def test_other_texts_get_another_set_and_the_old_one_is_removed(fake_pipeline: QAPipeline, tmp_path: Path) -> None:
    store, embedder = fake_pipeline.store, HashingEmbedder()
    HybridRetriever(store, embedder, lexical_dir=tmp_path)
    [old] = [p.name for p in tmp_path.iterdir()]
    doc_id = next(iter(store.documents))
    retitled = dict(store.documents)
    retitled[doc_id] = replace(store.documents[doc_id], title="Another title")
    (tmp_path / "drafts").mkdir()  # someone's own directory in the cache's place is not a set: kept
    (tmp_path / "drafts" / "notes.txt").write_text("keep me")
    HybridRetriever(replace(store, documents=retitled), embedder, lexical_dir=tmp_path)
    [new] = [p.name for p in tmp_path.iterdir() if p.name != "drafts"]
    assert new != old and (tmp_path / "drafts" / "notes.txt").read_text() == "keep me"


def test_the_digest_reads_every_text_and_parameter() -> None:
    base = {"a": LexicalSpec(["one text", "two"])}
    assert lexical_digest(base) == lexical_digest({"a": LexicalSpec(["one text", "two"])})
    assert lexical_digest(base) != lexical_digest({"a": LexicalSpec(["one text", "two!"])})
    assert lexical_digest(base) != lexical_digest({"a": LexicalSpec(["one text", "two"], k1=1.5)})
    assert lexical_digest(base) != lexical_digest({"b": LexicalSpec(["one text", "two"])})
    assert lexical_digest({"a": LexicalSpec(["ab", "c"])}) != lexical_digest({"a": LexicalSpec(["a", "bc"])})


def test_an_unwritable_path_costs_only_the_save(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.lexical_cache"):
        found = load_or_build(blocker / "lexical", {"a": LexicalSpec(["apple kiwi", "kiwi"])})
    assert "could not save" in caplog.text
    assert found.indexes["a"].top("kiwi", 5) == LexicalIndex(["apple kiwi", "kiwi"]).top("kiwi", 5)


def test_an_empty_index_saves_and_loads(tmp_path: Path) -> None:
    load_or_build(tmp_path, {"empty": LexicalSpec([])})
    again = load_or_build(tmp_path, {"empty": LexicalSpec([])})
    assert again.indexes["empty"].size == 0 and again.indexes["empty"].top("apple", 3) == []


def test_a_set_of_another_size_is_refused_by_name(tmp_path: Path) -> None:
    LexicalIndex(["apple", "kiwi"]).save(tmp_path / "two")
    with pytest.raises(ValueError, match="two holds 2 texts, not 3"):
        LexicalIndex.load(tmp_path / "two", 3)


def test_without_a_directory_nothing_is_written(tmp_path: Path) -> None:
    load_or_build(None, {"a": LexicalSpec(["apple"])})
    assert list(tmp_path.iterdir()) == []


def test_settings_put_the_set_beside_the_index_unless_turned_off(tmp_path: Path) -> None:
    on = Settings(index_dir=tmp_path / "idx", _env_file=None)  # type: ignore[call-arg]
    assert on.lexical_path() == tmp_path / "idx.lexical"
    off = Settings(index_dir=tmp_path / "idx", lexical_cache=False, _env_file=None)  # type: ignore[call-arg]
    assert off.lexical_path() is None


def test_a_term_table_round_trips_with_empty_rows_and_any_letters(tmp_path: Path) -> None:
    rows = [["türkiy", "role"], [], ["zelenski", "zelenski"], ["“quoted”"]]
    calls: list[int] = []

    def compute() -> list[list[str]]:
        calls.append(1)
        return [list(r) for r in rows]

    tables = {"terms": TableSpec(["a", "b", "c", "d"], compute)}
    assert load_or_build(tmp_path, {}, tables).tables["terms"] == rows
    assert load_or_build(tmp_path, {}, tables).tables["terms"] == rows
    assert len(calls) == 1
    assert lexical_digest({}, tables) != lexical_digest({}, {"terms": TableSpec(["a", "b", "c", "e"], compute)})


def test_a_damaged_term_table_is_named_and_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tables = {"terms": TableSpec(["x", "y"], lambda: [["one"], ["two", "three"]])}
    load_or_build(tmp_path, {}, tables)
    [saved] = [p for p in tmp_path.iterdir() if p.is_dir()]
    (saved / "table-terms" / "ends.npy").write_bytes(b"\x93NUMPY")
    with caplog.at_level(logging.WARNING, logger="rag.lexical_cache"):
        again = load_or_build(tmp_path, {}, tables)
    assert str(saved / "table-terms") in caplog.text
    assert again.tables["terms"] == [["one"], ["two", "three"]]
    assert load_or_build(tmp_path, {}, tables).tables["terms"] == [["one"], ["two", "three"]]


def test_staging_left_by_a_killed_save_is_removed_once_stale(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".abc.tmp-1-deadbeef", tmp_path / ".abc.tmp-2-feedbeef"
    stale.mkdir()
    fresh.mkdir()
    os.utime(stale, (1_000_000, 1_000_000))
    load_or_build(tmp_path, {"a": LexicalSpec(["apple"])})
    assert not stale.exists() and fresh.exists()  # a fresh one may be another process's save in progress
