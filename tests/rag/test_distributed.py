"""``rag index --engine ray``: Ray Data embeds the corpus (marked ``ray``), and without Ray the option says
how to install it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from api.cli import main
from rag.config import Settings
from rag.distributed import PrecomputedEmbedder, ray_embedder, texts_to_embed
from rag.embedding import HashingEmbedder
from rag.ingest import load_documents
from rag.store import IndexStore
from tests.conftest import SEEDS


def test_without_ray_the_engine_option_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as without the extra
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    assert main(["index", "--engine", "ray", "--quiet", str(SEEDS)]) == 2
    err = capsys.readouterr().err
    assert "--engine ray needs Ray Data" in err and "pip install '.[ray]'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "index").exists()


def test_the_ray_engine_needs_the_postgres_store(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("ray.data", reason="the [ray] extra is not installed")  # checked before the store
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    assert main(["index", "--engine", "ray", "--quiet", str(SEEDS)]) == 2
    assert "RAG_STORE=postgres" in capsys.readouterr().err


def test_precomputed_vectors_are_looked_up_and_misses_embedded() -> None:
    inner = HashingEmbedder(32)
    table = {"known": np.ones(32, np.float32)}
    embedder = PrecomputedEmbedder(inner, table)
    vectors = embedder.embed(["known", "unknown"])
    assert np.array_equal(vectors[0], np.ones(32, np.float32))
    assert np.allclose(vectors[1], inner.embed(["unknown"])[0])
    assert embedder.misses == 1 and embedder.model_name == inner.model_name and embedder.dimension == 32


@pytest.mark.ray
def test_ray_data_embeds_every_text_the_build_needs(tmp_path: Path) -> None:
    settings = Settings(model="hashing-64", index_dir=tmp_path / "index", _env_file=None)  # type: ignore[call-arg]
    documents, _ = load_documents([SEEDS])
    documents = documents[:2]
    embedder = ray_embedder(documents, HashingEmbedder(64), settings)
    assert set(embedder.table) == set(texts_to_embed(documents, settings.chunking()))
    store, _ = IndexStore.build(documents, embedder, settings.chunking())
    local, _ = IndexStore.build(documents, HashingEmbedder(64), settings.chunking())
    assert embedder.misses == 0  # Ray computed every vector the build asked for
    assert store.manifest["model"] == local.manifest["model"]
    np.testing.assert_allclose(store.sentence_vectors(), local.sentence_vectors(), atol=1e-6)
    np.testing.assert_allclose(store.passage_vectors(), local.passage_vectors(), atol=1e-6)
