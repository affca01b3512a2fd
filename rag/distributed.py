"""``rag index --engine ray``: the corpus embedded by Ray Data ``map_batches``, written into the store.

Every text the index build would embed (sentences, ``"title: sentence"`` forms, passages) of the
documents that are new or changed since the stored index is put in a Ray dataset and embedded by a
pool of actors, each loading the model once: on a laptop ``ray.init()`` starts a local Ray, in
production ``RAG_RAY_ADDRESS`` names the cluster. The vectors come back to the driver, which then builds
and commits the index exactly as a local ``rag index`` does (same chunking, entities and manifest: the
embedder is looked up, not replaced, so ``rag serve`` accepts the index as its own).

Ray is an optional extra: ``pip install '.[ray]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.chunking import ChunkingParams, passages_of, sentences_of
from rag.cli_support import CliError
from rag.documents import Document
from rag.embedding import Embedder, WrappedEmbedder
from rag.store import IndexStore, IndexStoreError

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.stores import StoreBackend

__all__ = ["RAY_EXTRA", "PrecomputedEmbedder", "embed_with_ray", "ray_embedder", "require_ray", "texts_to_embed"]

log = logging.getLogger(__name__)

RAY_EXTRA = "pip install '.[ray]'  (or: pip install 'ray[data]==2.60.0')"


def require_ray() -> Any:
    """The ``ray`` module with Ray Data, or a :class:`CliError` saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise CliError(f"--engine ray needs Ray Data, which is not installed ({exc.name}): {RAY_EXTRA}") from None
    return ray


class PrecomputedEmbedder(WrappedEmbedder):
    """``inner``'s identity (model name, weights hash, dimension) with vectors looked up in ``table``;
    texts not in it (a question, a document added later) are embedded by ``inner``."""

    def __init__(self, inner: Embedder, table: dict[str, np.ndarray]) -> None:
        self.inner = inner
        self.table = table
        self.misses = 0

    def encoder_info(self) -> dict[str, Any]:
        describe = getattr(self.inner, "encoder_info", None)
        info = describe() if callable(describe) else None
        return info if isinstance(info, dict) else {"runtime": type(getattr(self.inner, "inner", self.inner)).__name__}

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.table})
        if missing:
            self.misses += len(missing)
            self.table.update(zip(missing, self.inner.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.vstack([self.table[t] for t in texts]).astype(np.float32)


def texts_to_embed(documents: Sequence[Document], params: ChunkingParams) -> list[str]:
    """Every distinct text :meth:`IndexStore.build` embeds for ``documents`` (as
    :func:`rag.chunking.embed_sentences` and the passages do)."""
    texts: dict[str, None] = {}
    for document in documents:
        sentences = sentences_of(document)
        share = params.sentence_title_context if document.title else 0.0
        if share < 1.0:
            texts.update(dict.fromkeys(s.text for s in sentences))
        if share > 0.0:
            texts.update(dict.fromkeys(f"{document.title}: {s.text}" for s in sentences))
        texts.update(dict.fromkeys(p.text for p in passages_of(document, sentences, 0, params)))
    return list(texts)


class _EmbedBatch:
    """A Ray Data actor: loads the embedder once, then embeds the batches it is given."""

    def __init__(self, embedder_settings: dict[str, Any]) -> None:
        from rag.config import Settings
        from rag.pipeline import make_embedder

        self.embedder = make_embedder(Settings(**embedder_settings, _env_file=None))  # type: ignore[call-arg]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {"text": np.asarray(texts, dtype=object), "vector": self.embedder.embed(texts)}


def _embedder_settings(settings: Settings) -> dict[str, Any]:
    """What a worker needs to load the same embedder (never the database URL or keys)."""
    values: dict[str, Any] = {
        "model": settings.model,
        "device": settings.device,
        "embed_batch_size": settings.embed_batch_size,
        "allow_model_download": settings.allow_model_download,
        "onnx_dir": str(settings.onnx_path().resolve()),
        "max_batch": 1,
    }
    if settings.bundled_model():
        values["encoder"] = settings.encoder
    return values


def embed_with_ray(
    texts: Sequence[str], settings: Settings, *, batch_size: int = 256, workers: int | None = None
) -> dict[str, np.ndarray]:
    """``{text: vector}`` for ``texts``, embedded by Ray Data ``map_batches`` over a pool of actors."""
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        if settings.ray_address:
            ray.init(address=settings.ray_address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        pool = workers or max(1, int(ray.available_resources().get("CPU", 1)))
        dataset = ray.data.from_items([{"text": t} for t in texts]).map_batches(
            _EmbedBatch,
            fn_constructor_kwargs={"embedder_settings": _embedder_settings(settings)},
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=pool),
            num_cpus=1,
        )
        table: dict[str, np.ndarray] = {}
        for batch in dataset.iter_batches(batch_size=4096, batch_format="numpy"):
            table.update(zip((str(t) for t in batch["text"]), np.asarray(batch["vector"], np.float32), strict=True))
    finally:
        if started_here:
            ray.shutdown()
    return table


def ray_embedder(
    documents: Sequence[Document],
    embedder: Embedder,
    settings: Settings,
    *,
    rebuild: bool = False,
    backend: StoreBackend | None = None,
) -> PrecomputedEmbedder:
    """An embedder for the index build whose vectors for ``documents`` were computed by Ray (only the
    documents the stored index does not already hold with the same text, unless ``rebuild``)."""
    params = settings.chunking()
    todo = list(documents)
    if backend is not None and not rebuild:
        try:
            previous: IndexStore | None = backend.load()
        except IndexStoreError:
            previous = None
        if previous is not None and previous.compatible_with(embedder, params):
            known = previous.documents
            todo = [
                d
                for d in documents
                if d.doc_id not in known
                or known[d.doc_id].content_hash != d.content_hash
                or known[d.doc_id].title != d.title
            ]
    embedder.embed(["warm-up"])  # the driver exports the ONNX graph once, before the workers read it
    texts = texts_to_embed(todo, params)
    log.info("embedding %d texts of %d documents with Ray", len(texts), len(todo))
    table = embed_with_ray(texts, settings) if texts else {}
    return PrecomputedEmbedder(embedder, table)
