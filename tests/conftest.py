"""Shared fixtures. Unit tests use a deterministic hashing embedder.

No test reaches the network: pytest-socket (``--allow-hosts`` in pyproject.toml) lets sockets
connect to loopback only, so a model-hub download fails the test instead of hiding.

Tests marked ``postgres`` need a PostgreSQL server with pgvector at ``RAG_TEST_DATABASE_URL``
(``bash scripts/postgres.sh start`` prints one; ``.ci/run`` sets it). Without one they skip, saying so,
except under ``CI=true``, where a missing server fails them. Each test gets a schema of its own.
Tests marked ``ray`` need the ``[ray]`` extra and are handled the same way.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.answer import Answer
from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.pipeline import QAPipeline, build_pipeline

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DEV_GOLD = REPO / "tests" / "data" / "dev_gold.jsonl"
TEST_DATABASE_ENV = "RAG_TEST_DATABASE_URL"


def _no_database(reason: str) -> None:
    message = f"{reason}: set {TEST_DATABASE_ENV} to a PostgreSQL with pgvector (bash scripts/postgres.sh start)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; under CI=true the postgres tests must run", pytrace=False)
    pytest.skip(message)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") is not None and not os.environ.get(TEST_DATABASE_ENV):
        _no_database("no PostgreSQL server configured")
    if item.get_closest_marker("ray") is not None and importlib.util.find_spec("ray") is None:
        message = "Ray is not installed: pip install '.[ray]'"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; under CI=true the ray tests must run", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get(TEST_DATABASE_ENV, "")
    if not url:
        _no_database("no PostgreSQL server configured")
    return url


@pytest.fixture()
def pg_schema(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh schema name; afterwards every backend opened meanwhile is closed and the schema dropped."""
    from rag.stores.postgres import PostgresBackend

    opened: list[PostgresBackend] = []
    original = PostgresBackend.__init__

    def tracked(self: PostgresBackend, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(PostgresBackend, "__init__", tracked)
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    for backend in opened:
        backend.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def assert_citations_verbatim(answer: Answer | dict, documents: dict[str, str]) -> None:
    """Every citation's text is exactly document[start:end]."""
    citations = answer["citations"] if isinstance(answer, dict) else [vars(c) for c in answer.citations]
    for citation in citations:
        text = documents[citation["doc_id"]]
        assert text[citation["start"] : citation["end"]] == citation["text"], citation


@pytest.fixture(scope="session")
def seeds_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the project's seeds (tests may not touch the real ones)."""
    target = tmp_path_factory.mktemp("seeds") / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def fake_settings(seeds_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The hashing embedder's similarities are not the real model's, so it has its own threshold.
    return Settings(  # type: ignore[call-arg]
        seeds_dir=seeds_copy,
        index_dir=tmp_path_factory.mktemp("index") / "fake",
        abstain_threshold=0.15,
        _env_file=None,
    )


@pytest.fixture(scope="session")
def fake_pipeline(fake_settings: Settings) -> QAPipeline:
    """The seeds indexed with the hashing embedder."""
    return build_pipeline(fake_settings, embedder=HashingEmbedder())


@pytest.fixture()
def ask_calls(monkeypatch: pytest.MonkeyPatch, fake_pipeline: QAPipeline) -> list[str]:
    """Every question passed to ``fake_pipeline.ask`` during the test."""
    calls: list[str] = []
    original = fake_pipeline.ask

    def counting(question: str, **kwargs: Any) -> Answer:
        calls.append(question)
        return original(question, **kwargs)

    monkeypatch.setattr(fake_pipeline, "ask", counting)
    return calls


@pytest.fixture()
def client(fake_settings: Settings, fake_pipeline: QAPipeline) -> Iterator[TestClient]:
    with TestClient(create_app(fake_settings, pipeline=fake_pipeline)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def real_settings(seeds_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(seeds_dir=seeds_copy, index_dir=tmp_path_factory.mktemp("index") / "real", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def real_pipeline(real_settings: Settings) -> QAPipeline:
    """The seeds indexed with the real bundled all-MiniLM-L6-v2 model."""
    return build_pipeline(real_settings)


@pytest.fixture()
def real_client(real_settings: Settings, real_pipeline: QAPipeline) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings, pipeline=real_pipeline)) as test_client:
        yield test_client
