"""Faults injected at the file level: crashes between the steps of a save or a write, damaged files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from api.cli import main
from rag.config import Settings
from rag.corpus import ArticleRecord, CorpusJournal, JournalEntry
from rag.pipeline import build_pipeline
from rag.store import IndexCorruptError, IndexStore
from tests.conftest import SEEDS


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        seeds_dir=SEEDS, index_dir=tmp_path / "index" / "default", model="hashing", _env_file=None
    )


def test_save_fsyncs_every_file_and_the_directories(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store = build_pipeline(settings).store
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    target = store.save(settings.index_dir)
    names = {Path(p).name for p in synced}
    assert {"documents.jsonl", "sentences.jsonl", "passages.jsonl", "passages.faiss", "sentences.faiss"} <= names
    assert "manifest.json" in names
    assert str(target.parent) in synced  # the rename itself is made durable


def test_a_crash_between_the_two_renames_of_a_save_recovers_the_old_index(settings: Settings) -> None:
    store = build_pipeline(settings).store
    index = settings.index_dir.resolve()
    retired = index.parent / ".default.old-crash"
    retired.mkdir()
    index.rename(retired / index.name)  # the old index moved aside, the new one never renamed in
    (index.parent / ".default.tmp-crash").mkdir()  # and a half-written staging directory left behind
    recovered = IndexStore.load(index)
    assert recovered.manifest["corpus_fingerprint"] == store.manifest["corpus_fingerprint"]
    assert build_pipeline(settings).index_status.action == "loaded"  # type: ignore[union-attr]


def test_a_committed_write_whose_index_was_never_saved_is_served_at_the_next_start(settings: Settings) -> None:
    build_pipeline(settings)
    record = ArticleRecord("late", "Late news\n\nThe Vostok ferry service will resume on 3 March.")
    CorpusJournal(settings.journal_path()).append([JournalEntry("put", "late", record)])  # killed right after
    pipeline = build_pipeline(settings)
    assert pipeline.index_status is not None and pipeline.index_status.action == "updated"
    assert pipeline.index_status.stats is not None and pipeline.index_status.stats.documents_embedded == 1
    assert "late" in pipeline.store.documents and "late" in IndexStore.load(settings.index_dir).documents


@pytest.mark.parametrize("name", ["passages.faiss", "sentences.jsonl", "manifest.json"])
def test_damaged_index_is_refused_naming_the_file_and_rag_index_repairs_it(
    settings: Settings, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build_pipeline(settings)
    damaged = settings.index_dir / name
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    with pytest.raises(IndexCorruptError) as refused:
        build_pipeline(settings)
    assert str(damaged) in str(refused.value) and "rag index --rebuild" in str(refused.value)
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.chdir(settings.index_dir.parent)
    assert main(["serve", "--port", "1"]) == 2  # the service refuses to start on it
    assert str(damaged) in capsys.readouterr().err
    assert main(["index", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "repairing" in captured.err and "index built" in captured.out
    assert build_pipeline(settings).index_status.action == "loaded"  # type: ignore[union-attr]


def test_rebuild_repairs_a_damaged_index_too(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    build_pipeline(settings)
    (settings.index_dir / "sentences.faiss").write_bytes(b"garbage")
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    assert main(["index", "--rebuild", "--quiet"]) == 0
    IndexStore.load(settings.index_dir)


def test_rag_index_layers_the_written_corpus_over_the_seeds(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    CorpusJournal(settings.journal_path()).append([JournalEntry("delete", "000_547d51fb02376e96")])
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    assert main(["index", "--quiet"]) == 0
    assert "000_547d51fb02376e96" not in IndexStore.load(settings.index_dir).documents
    shutil.rmtree(settings.index_dir)
