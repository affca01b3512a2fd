from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import (
    BUNDLED_MODEL_HASHES,
    EmbedderError,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_path,
    verify_bundled_model,
)


def test_bundled_model_matches_the_official_hashes() -> None:
    assert verify_bundled_model(bundled_model_path()) == BUNDLED_MODEL_HASHES["model.safetensors"]


def test_modified_bundled_file_is_refused_by_name(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(bundled_model_path(), copy)
    with (copy / "tokenizer.json").open("a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(EmbedderError, match=r"tokenizer\.json has sha256 .* refusing"):
        verify_bundled_model(copy)
    (copy / "model.safetensors").unlink()
    with pytest.raises(EmbedderError, match=r"model\.safetensors"):
        verify_bundled_model(copy)


def test_default_aliases_resolve_to_the_bundled_model() -> None:
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "bundled"):
        assert SentenceTransformerEmbedder(name).model_name == "all-MiniLM-L6-v2"


def test_constructor_is_light_and_validates() -> None:
    embedder = SentenceTransformerEmbedder()
    assert embedder._model is None  # nothing is loaded until warm_up()
    with pytest.raises(ValueError, match="batch_size"):
        SentenceTransformerEmbedder(batch_size=0)
    with pytest.raises(ValueError, match="model name"):
        SentenceTransformerEmbedder(" ")


def test_hub_name_without_download_permission_fails_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(EmbedderError, match="RAG_ALLOW_MODEL_DOWNLOAD"):
        SentenceTransformerEmbedder("someone/not-a-cached-model").warm_up()


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    embedder = HashingEmbedder(64)
    a = embedder.embed(["prisoner exchange in Istanbul", "weather in Lviv"])
    b = HashingEmbedder(64).embed(["prisoner exchange in Istanbul", "weather in Lviv"])
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    close = float(a[0] @ embedder.embed(["Istanbul prisoner exchange talks"])[0])
    far = float(a[0] @ a[1])
    assert close > far


@pytest.mark.slow
def test_real_model_embeds_offline_and_ranks_paraphrases() -> None:
    embedder = SentenceTransformerEmbedder()
    vectors = embedder.embed(
        ["Kyiv wants 1,200 captives freed", "Ukraine seeks the release of 1,200 prisoners", "Rain is expected in Lviv"]
    )
    assert vectors.shape == (3, 384) and embedder.dimension == 384
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
