"""The PostgreSQL/pgvector backend against a real server (marked ``postgres``), and its failures without one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import psycopg
import pytest

from rag.config import Settings, SettingsError, load_settings
from rag.corpus import ArticleRecord, JournalEntry, WriteConflictError
from rag.documents import Passage
from rag.embedding import HashingEmbedder
from rag.pipeline import build_pipeline
from rag.store import IndexMismatchError, IndexNotFoundError, IndexStore
from rag.stores import FileBackend, redact_url
from rag.stores.postgres import DatabaseError, PostgresBackend, migrations
from tests.conftest import DEV_GOLD, SEEDS


def pg_settings(tmp_path: Path, url: str, schema: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "seeds_dir": SEEDS,
        "index_dir": tmp_path / "index",
        "model": "hashing",
        "entity_tagger": "rules",
        "abstain_threshold": 0.15,
        "store": "postgres",
        "database_url": url,
        "database_schema": schema,
        **overrides,
    }
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


def dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- without a server ---------------------------------------------------------------------------
def test_an_unreachable_database_names_the_variable_and_masks_the_password() -> None:
    with pytest.raises(DatabaseError) as caught:
        PostgresBackend("postgresql://rag:s3cret-pw@127.0.0.1:1/rag", dimension=8, connect_timeout=1)
    message = str(caught.value)
    assert "RAG_DATABASE_URL=postgresql://rag:****@127.0.0.1:1/rag" in message
    assert "s3cret-pw" not in message


def test_rag_index_on_an_unreachable_database_exits_2_with_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from api.cli import main

    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_STORE", "postgres")
    monkeypatch.setenv("RAG_DATABASE_URL", "postgresql://rag:pa55word@127.0.0.1:1/rag")
    monkeypatch.setenv("RAG_DATABASE_CONNECT_TIMEOUT", "1")
    assert main(["index", "--quiet", str(SEEDS)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "rag: error: cannot use the database at RAG_DATABASE_URL=postgresql://rag:****@127.0.0.1:1/rag"
    )
    assert "pa55word" not in err and "Traceback" not in err


def test_redact_url_masks_url_and_keyword_passwords() -> None:
    assert redact_url("postgresql://u:p%40ss@h:5432/d") == "postgresql://u:****@h:5432/d"
    assert redact_url("host=h password='a b' dbname=d") == "host=h password=**** dbname=d"
    assert redact_url("postgresql://u@h/d") == "postgresql://u@h/d"


def test_postgres_store_needs_a_url_and_a_valid_schema() -> None:
    with pytest.raises(SettingsError, match="RAG_DATABASE_URL"):
        load_settings(store="postgres", _env_file=None)
    with pytest.raises(SettingsError, match="RAG_DATABASE_SCHEMA"):
        load_settings(store="postgres", database_url="postgresql://h/d", database_schema="x; drop", _env_file=None)


def test_config_output_masks_the_database_password() -> None:
    settings = load_settings(store="postgres", database_url="postgresql://u:hunter2@h/d", _env_file=None)
    assert settings.masked()["database_url"] == "postgresql://u:****@h/d"
    assert "hunter2" not in json.dumps(settings.masked())


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [number for number, _, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all("{dimension}" in sql for number, _, sql in migrations() if number == 1)


# ---- against the server -------------------------------------------------------------------------
@pytest.mark.postgres
def test_migrations_are_recorded_once_and_the_dimension_is_checked(database_url: str, pg_schema: str) -> None:
    PostgresBackend(database_url, dimension=64, schema=pg_schema)
    PostgresBackend(database_url, dimension=64, schema=pg_schema)  # a second process: nothing re-applied
    with psycopg.connect(database_url, options=f"-c search_path={pg_schema},public") as conn:
        applied = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        kinds = dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'passages'").fetchall())
    assert applied == [number for number, _, _ in migrations()]
    assert "hnsw" in kinds["passages_embedding_hnsw"] and "gin" in kinds["passages_tsv_gin"]
    with pytest.raises(IndexMismatchError, match="dimension 64"):
        PostgresBackend(database_url, dimension=32, schema=pg_schema)


@pytest.mark.postgres
def test_an_empty_database_has_no_index_yet(database_url: str, pg_schema: str) -> None:
    with pytest.raises(IndexNotFoundError, match="rag index"):
        PostgresBackend(database_url, dimension=16, schema=pg_schema).load()


@pytest.mark.postgres
def test_the_seeds_in_postgres_are_the_seeds_in_files(tmp_path: Path, database_url: str, pg_schema: str) -> None:
    settings = pg_settings(tmp_path, database_url, pg_schema)
    on_files = build_pipeline(replace_store(settings, "files"), embedder=HashingEmbedder())
    built = build_pipeline(settings, embedder=HashingEmbedder())
    assert built.index_status is not None and built.index_status.action == "built"
    reopened = build_pipeline(settings, embedder=HashingEmbedder())  # another process, same database
    assert reopened.index_status is not None and reopened.index_status.action == "loaded"
    for pipeline in (built, reopened):
        assert pipeline.store.documents == on_files.store.documents
        assert pipeline.store.sentences == on_files.store.sentences
        assert pipeline.store.passages == on_files.store.passages
        assert pipeline.store.entities == on_files.store.entities
        np.testing.assert_allclose(pipeline.store.sentence_vectors(), on_files.store.sentence_vectors(), atol=1e-6)
        np.testing.assert_allclose(pipeline.store.passage_vectors(), on_files.store.passage_vectors(), atol=1e-6)
    questions = dev_questions()
    same = 0
    for question in questions:
        mine, theirs = reopened.ask(question), on_files.ask(question)
        same += (mine.sentences[:1] and mine.sentences[0].text) == (theirs.sentences[:1] and theirs.sentences[0].text)
    assert same / len(questions) >= 0.9


def replace_store(settings: Settings, store: str) -> Settings:
    return settings.model_copy(update={"store": store})


@pytest.mark.postgres
def test_dense_search_in_pgvector_matches_exact_search(database_url: str, pg_schema: str, tmp_path: Path) -> None:
    pipeline = build_pipeline(pg_settings(tmp_path, database_url, pg_schema), embedder=HashingEmbedder())
    store = pipeline.store
    assert store.searcher is not None
    exact = replace(store, searcher=None)
    for question in dev_questions()[:20]:
        vector = pipeline.embedder.embed([question])[0]
        scores, rows = store.search_passages(vector, 10)
        exact_scores, exact_rows = exact.search_passages(vector, 10)
        assert len(set(rows) & set(exact_rows)) >= 9
        np.testing.assert_allclose(scores[:5], exact_scores[:5], atol=1e-5)


@pytest.mark.postgres
def test_full_text_search_runs_in_the_database(database_url: str, pg_schema: str, tmp_path: Path) -> None:
    pipeline = build_pipeline(pg_settings(tmp_path, database_url, pg_schema), embedder=HashingEmbedder())
    backend = pipeline.backend
    assert isinstance(backend, PostgresBackend)
    hits = backend.lexical_search("Istanbul agreements prisoner exchanges", 5)
    assert hits and all(score > 0 for _, score in hits)
    texts = {(p.doc_id, n): p.text for n, p in enumerate_by_doc(pipeline.store.passages)}
    assert any("Istanbul" in texts[key] for key, _ in hits)
    assert backend.lexical_search("zzzqqq", 5) == []


def enumerate_by_doc(passages: list[Passage]) -> list[tuple[int, Passage]]:
    counts: dict[str, int] = {}
    out = []
    for passage in passages:
        out.append((counts.get(passage.doc_id, 0), passage))
        counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
    return out


def _article(doc_id: str, text: str) -> ArticleRecord:
    return ArticleRecord(id=doc_id, text=text, title=f"Title of {doc_id}")


@pytest.mark.postgres
def test_a_failed_commit_leaves_nothing_behind(database_url: str, pg_schema: str, tmp_path: Path) -> None:
    pipeline = build_pipeline(pg_settings(tmp_path, database_url, pg_schema), embedder=HashingEmbedder())
    backend = pipeline.backend
    assert isinstance(backend, PostgresBackend)
    before = backend.current_version()
    document = _article("half-written", "First sentence here. Second sentence here.").to_document()
    store, _ = IndexStore.build(
        [*pipeline.store.documents.values(), document], pipeline.embedder, load_settings(_env_file=None).chunking()
    )
    # A passage whose end precedes its start violates a CHECK: the COPY fails after the document row went in.
    broken = [
        Passage(p.passage_id, p.doc_id, p.start, p.start - 1, p.text, p.sentence_ids)
        if p.doc_id == "half-written"
        else p
        for p in store.passages
    ]
    entry = JournalEntry("put", "half-written", _article("half-written", document.text))
    with pytest.raises(psycopg.errors.CheckViolation):
        backend.commit(replace(store, passages=broken), [entry], pipeline.store)
    assert backend.current_version() == before
    assert "half-written" not in backend.load().documents
    assert backend.journal.read() == []


@pytest.mark.postgres
def test_a_commit_from_a_stale_read_is_refused(database_url: str, pg_schema: str, tmp_path: Path) -> None:
    settings = pg_settings(tmp_path, database_url, pg_schema)
    first = build_pipeline(settings, embedder=HashingEmbedder())
    second = build_pipeline(settings, embedder=HashingEmbedder())
    assert first.backend is not None and second.backend is not None
    first.backend.commit(first.store, [JournalEntry("delete", "nothing")], first.store)
    with pytest.raises(WriteConflictError, match="changed in the database"):
        second.backend.commit(second.store, [], second.store)


@pytest.mark.postgres
def test_an_index_of_another_model_is_refused_with_the_rebuild_command(
    database_url: str, pg_schema: str, tmp_path: Path
) -> None:
    settings = pg_settings(tmp_path, database_url, pg_schema)
    build_pipeline(settings, embedder=HashingEmbedder(64))
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        build_pipeline(settings.model_copy(update={"model": "hashing-64"}), embedder=RenamedEmbedder(64))


class RenamedEmbedder(HashingEmbedder):
    @property
    def model_name(self) -> str:
        return "another-model"


def test_file_backend_keeps_the_files_layout(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "index" / "default")
    assert backend.journal.path == tmp_path / "index" / "default.writes.jsonl"
    assert backend.current_version() is None
    with pytest.raises(IndexNotFoundError):
        backend.load()


@pytest.mark.postgres
def test_replicas_starting_together_build_once(database_url: str, pg_schema: str, tmp_path: Path) -> None:
    import threading

    settings = pg_settings(tmp_path, database_url, pg_schema)
    actions: list[str] = []

    def start() -> None:
        pipeline = build_pipeline(settings, embedder=HashingEmbedder())
        assert pipeline.index_status is not None
        actions.append(pipeline.index_status.action)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(actions) == ["built", "loaded"]
