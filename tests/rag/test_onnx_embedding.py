"""The ONNX Runtime encoder gives the sentence-transformers model's vectors (rag/onnx_embedding.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embedding import SentenceTransformerEmbedder
from rag.onnx_embedding import OnnxEmbedder, export_onnx

pytestmark = pytest.mark.slow

SENTENCES = [
    "Kyiv currently expects to free around 1,200 Ukrainians from Russian captivity.",
    "Who mediated the Istanbul agreements?",
    "short",
    "The talks, he said, stalled — again — on 15 November in Abu Dhabi.",
    " ".join(["a long sentence that runs past the model's 256-token limit"] * 40),
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return SentenceTransformerEmbedder().embed(SENTENCES)


def test_onnx_fp32_matches_the_torch_model(cache_dir: Path, torch_vectors: np.ndarray) -> None:
    embedder = OnnxEmbedder(cache_dir, "fp32")
    vectors = embedder.embed(SENTENCES)
    assert vectors.shape == torch_vectors.shape and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    # Batches of mixed lengths and one text at a time give the same vectors (padding is masked out).
    single = np.vstack([embedder.embed([s]) for s in SENTENCES])
    np.testing.assert_allclose(single, vectors, atol=1e-4)
    assert embedder.weights_hash.endswith("+onnx-fp32")
    assert embedder.encoder_info()["runtime"] == "onnxruntime"


def test_onnx_int8_stays_close_and_exports_once(cache_dir: Path, torch_vectors: np.ndarray) -> None:
    vectors = OnnxEmbedder(cache_dir, "int8").embed(SENTENCES)
    assert ((vectors * torch_vectors).sum(axis=1)).min() >= 0.98
    record = json.loads((cache_dir / "export.json").read_text(encoding="utf-8"))
    assert set(record["files"]) == {"fp32", "int8"}
    before = (cache_dir / "model-int8.onnx").stat().st_mtime_ns
    assert export_onnx(cache_dir, "int8") == cache_dir / "model-int8.onnx"
    assert (cache_dir / "model-int8.onnx").stat().st_mtime_ns == before, "a valid export was redone"


def test_a_damaged_export_is_redone(cache_dir: Path, tmp_path: Path) -> None:
    export_onnx(cache_dir, "fp32")
    damaged = tmp_path / "onnx"
    damaged.mkdir()
    for name in ("model.onnx", "export.json"):
        (damaged / name).write_bytes((cache_dir / name).read_bytes())
    with (damaged / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    export_onnx(damaged, "fp32")
    assert (damaged / "model.onnx").read_bytes() == (cache_dir / "model.onnx").read_bytes()


def test_settings_choose_the_encoder_and_refuse_it_for_another_model(tmp_path: Path) -> None:
    from rag.config import SettingsError, load_settings
    from rag.pipeline import make_embedder

    settings = Settings(encoder="onnx-int8", index_dir=tmp_path / "idx", _env_file=None)  # type: ignore[call-arg]
    embedder = make_embedder(settings)
    inner = getattr(embedder, "inner", embedder)
    assert isinstance(inner, OnnxEmbedder) and inner.variant == "int8" and inner.cache_dir == tmp_path / "idx.onnx"
    with pytest.raises(SettingsError, match="RAG_ENCODER=onnx runs the bundled"):
        load_settings(encoder="onnx", model="hashing")
    # The default encoder applies to the bundled model only; another model runs as before.
    assert type(make_embedder(Settings(model="hashing", _env_file=None))).__name__ == "HashingEmbedder"  # type: ignore[call-arg]
    default = make_embedder(Settings(index_dir=tmp_path / "idx", _env_file=None))  # type: ignore[call-arg]
    assert isinstance(getattr(default, "inner", default), OnnxEmbedder)


def test_nothing_is_written_to_home(cache_dir: Path, tmp_path: Path) -> None:
    """The container's HOME is not writable: ONNX Runtime's telemetry device id must not be created there."""
    import os
    import subprocess
    import sys

    export_onnx(cache_dir, "fp32")
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "from pathlib import Path; from rag.onnx_embedding import OnnxEmbedder; "
        f"OnnxEmbedder(Path({str(cache_dir)!r})).embed(['x'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    result = subprocess.run(
        [sys.executable, "-c", script], env={**env, "HOME": str(home)}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert list(home.iterdir()) == []
