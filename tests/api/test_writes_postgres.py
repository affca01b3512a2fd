"""The write API on the PostgreSQL store: the file backend's behavioural tests (tests/api/test_writes.py)
run again with ``RAG_STORE=postgres``, and what only a shared store can do: two API processes on one
database see each other's writes at once.

The tests of test_writes.py that inspect the index directory or the journal file are file-backend
specifics and are not repeated; their PostgreSQL counterparts are in tests/rag/stores/test_postgres.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import tests.api.test_writes as files_suite
from api.main import create_app
from rag.config import Settings
from rag.pipeline import build_pipeline
from rag.stores.postgres import PostgresBackend
from tests.api.test_writes import (  # re-run on this backend (pytest collects them here too)
    AUTH,
    ZORBLAX,
    test_a_deleted_article_can_be_written_again,
    test_bad_writes_are_refused_with_a_message_and_change_nothing,
    test_deleted_seed_article_never_comes_back,
    test_deleting_every_article_leaves_a_service_that_abstains,
    test_faq_follows_the_swap,
    test_readers_never_see_an_error_during_writes,
    test_reindex_picks_up_a_new_seed_file_without_a_restart,
    test_reindex_with_an_unreadable_seed_file_is_a_409_and_changes_nothing,
    test_replacing_an_article_re_embeds_it_and_a_new_title_alone_does_too,
    test_writes_need_a_valid_bearer_key,
    texts,
)

pytestmark = pytest.mark.postgres

__all__ = [
    "test_a_deleted_article_can_be_written_again",
    "test_bad_writes_are_refused_with_a_message_and_change_nothing",
    "test_deleted_seed_article_never_comes_back",
    "test_deleting_every_article_leaves_a_service_that_abstains",
    "test_faq_follows_the_swap",
    "test_readers_never_see_an_error_during_writes",
    "test_reindex_picks_up_a_new_seed_file_without_a_restart",
    "test_reindex_with_an_unreadable_seed_file_is_a_409_and_changes_nothing",
    "test_replacing_an_article_re_embeds_it_and_a_new_title_alone_does_too",
    "test_writes_need_a_valid_bearer_key",
]


@pytest.fixture(autouse=True)
def on_postgres(database_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every settings object the re-run tests make names the test's own database schema."""
    original = files_suite.make_settings

    def make_settings(root: Path, **overrides: object) -> Settings:
        values: dict[str, object] = {"store": "postgres", "database_url": database_url, "database_schema": pg_schema}
        return original(root, **{**values, **overrides})

    monkeypatch.setattr(files_suite, "make_settings", make_settings)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return files_suite.make_settings(tmp_path)


@pytest.fixture()
def writable(settings: Settings) -> Iterator[TestClient]:
    with files_suite.start(settings) as client:
        yield client


def test_the_service_really_runs_on_postgres(settings: Settings, writable: TestClient) -> None:
    pipeline = writable.app.state.pipeline  # type: ignore[attr-defined]
    assert isinstance(pipeline.backend, PostgresBackend) and pipeline.store.searcher is not None
    assert not settings.index_dir.exists() and not settings.journal_path().exists()


def test_two_api_processes_see_each_other_s_writes_at_once(settings: Settings, tmp_path: Path) -> None:
    # Two apps, each with its own pipeline, connection pool and in-memory snapshot: two replicas.
    with (
        TestClient(create_app(settings, pipeline=build_pipeline(settings))) as first,
        TestClient(create_app(settings, pipeline=build_pipeline(settings))) as second,
    ):
        assert first.post("/documents", json=ZORBLAX, headers=AUTH).status_code == 200
        assert second.get("/documents/zorblax-merger").json()["title"] == ZORBLAX["title"]
        question = {"question": "How many people will the merged Zorblax company employ?"}
        assert "12,000" in second.post("/ask", json=question).json()["answer"]
        assert second.get("/health").json()["documents"] == 5
        assert second.delete("/documents/zorblax-merger", headers=AUTH).status_code == 200
        assert first.get("/documents/zorblax-merger").status_code == 404
        assert "zorblax-merger" not in texts(first)


def test_concurrent_writers_in_two_processes_lose_nothing(settings: Settings) -> None:
    with (
        TestClient(create_app(settings, pipeline=build_pipeline(settings))) as first,
        TestClient(create_app(settings, pipeline=build_pipeline(settings))) as second,
    ):
        results: list[int] = []

        def writer(client: TestClient, number: int) -> None:
            article = {"id": f"w{number}", "text": f"Writer {number} filed the report number {number * 7}."}
            results.append(client.post("/documents", json=article, headers=AUTH).status_code)

        threads = [threading.Thread(target=writer, args=(first if n % 2 else second, n)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [200] * 6
        expected = {f"w{n}" for n in range(6)}
        assert expected <= set(texts(first)) and expected <= set(texts(second))
