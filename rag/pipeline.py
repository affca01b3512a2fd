"""The question-answering pipeline: load or build the index, retrieve, compose an answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.ann import AnnParams
from rag.answer import Answer, AnswerComposer, ComposerParams
from rag.answerability import AnswerabilityModel, load_answerability
from rag.batching import MicroBatchingEmbedder
from rag.chunking import ChunkingParams
from rag.corpus import load_corpus
from rag.documents import Document
from rag.embedding import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from rag.entities import EntityTagger, make_tagger
from rag.faq import FaqDocument, parse_faq
from rag.ingest import load_documents, require_seeds_dir
from rag.places import load_place_names
from rag.ranker import LinearRanker, load_ranker
from rag.reranker import CrossEncoderReranker, Reranker, rerank_sentences
from rag.reranker import Runtime as RerankRuntime
from rag.retrieval import HybridRetriever, RetrievalParams, ScoredPassage
from rag.store import (
    BuildStats,
    IndexNotFoundError,
    IndexOutdatedError,
    IndexStore,
    check_index_directory,
    corpus_fingerprint,
)
from rag.text import is_blank

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.onnx_embedding import OnnxVariant
    from rag.stores import Journal, StoreBackend

__all__ = [
    "ASK_STAGES",
    "IndexStatus",
    "QAPipeline",
    "batching",
    "build_pipeline",
    "make_answerability",
    "make_embedder",
    "make_ranker",
    "make_reranker",
    "open_index",
]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexStatus:
    """What :func:`open_index` did."""

    action: str  # "loaded", "built", "updated"
    seconds: float
    stats: BuildStats | None = None


def open_index(
    documents: Sequence[Document],
    embedder: Embedder,
    params: ChunkingParams,
    index_dir: Path,
    *,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
    tagger: EntityTagger | None = None,
    backend: StoreBackend | None = None,
    ann: AnnParams | None = None,
) -> tuple[IndexStore, IndexStatus]:
    """Load the index at ``index_dir`` (or in ``backend``) or (re)build it when the corpus changed.

    An index built with another model or other chunking is refused with a message that says
    how to rebuild, unless ``rebuild`` is set. Unchanged documents keep their vectors. An index
    whose entities were found by another tagger is rebuilt.
    """
    from rag.stores import FileBackend

    tagger = tagger or make_tagger("rules")
    store_backend: StoreBackend = backend or FileBackend(index_dir)
    # Replicas starting together on a shared store: one builds or updates it, the others then load that.
    if isinstance(store_backend, FileBackend):
        check_index_directory(store_backend.index_dir)  # before a build that saving would then refuse
    with store_backend.write_lock():
        where = store_backend.describe()
        started = time.perf_counter()
        previous: IndexStore | None = None
        if not rebuild:  # a rebuild never reads the old index, so it also repairs a corrupt one
            try:
                previous = store_backend.load()
            except IndexNotFoundError:
                previous = None
            except IndexOutdatedError as exc:
                log.info("%s; rebuilding it from the corpus", exc)
                previous = None
        if previous is not None and not rebuild:
            previous.check_compatible(embedder.model_name, params, where)
            same_tagger = previous.manifest.get("entity_tagger") == tagger.name
            # Another runtime of the same model (RAG_ENCODER) gives other vectors: re-embed rather than mix them.
            same_weights = previous.manifest.get("model", {}).get("weights_hash") == embedder.weights_hash
            same_corpus = previous.manifest.get("corpus_fingerprint") == corpus_fingerprint(documents)
            if same_tagger and same_weights and same_corpus:
                return previous, IndexStatus("loaded", time.perf_counter() - started)
            log.info(
                "%s since the index was built; updating %s",
                "corpus changed"
                if same_tagger and same_weights
                else f"entity tagger changed to {tagger.name}"
                if not same_tagger
                else f"encoder weights changed to {embedder.weights_hash}",
                where,
            )
        store, stats = IndexStore.build(
            documents,
            embedder,
            params,
            previous=None if rebuild else previous,
            progress=progress,
            tagger=tagger,
            ann=ann,
        )
        store = store_backend.commit(store, previous=previous)
        action = "updated" if previous is not None and not rebuild else "built"
        return store, IndexStatus(action, time.perf_counter() - started, stats)


class QAPipeline:
    """Answers questions from an index; one instance serves many requests."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        *,
        retrieval: RetrievalParams | None = None,
        composer: ComposerParams | None = None,
        top_k: int = 16,
        faq: Sequence[FaqDocument] = (),
        ranker: LinearRanker | None = None,
        tagger: EntityTagger | None = None,
        answerability: AnswerabilityModel | None = None,
        reranker: Reranker | None = None,
        rerank_depth: int = 8,
        rerank_prior_weight: float = 1.0,
        rerank_skip_margin: float = 0.0,
        lexical_dir: Path | None = None,
    ) -> None:
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        if rerank_depth < 1:
            raise ValueError("rerank_depth must be at least 1")
        if rerank_skip_margin < 0:
            raise ValueError("rerank_skip_margin must not be negative")
        self.store = store
        self.embedder = embedder
        self.lexical_dir = lexical_dir
        """Where the retriever's BM25 indexes are saved and loaded from (None: built at each start)."""
        self.retriever = HybridRetriever(store, embedder, retrieval, ranker, lexical_dir=lexical_dir)
        self.composer = AnswerComposer(store, self.retriever._sentence_vectors, composer, answerability)
        self.answerability = answerability
        self.top_k = top_k
        self.ranker = ranker
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self.rerank_prior_weight = rerank_prior_weight
        self.rerank_skip_margin = rerank_skip_margin
        self.tagger = tagger or make_tagger("rules")
        """Finds entities in documents added later (the index records which tagger it was built with)."""
        self.faq = list(faq)
        self.index_status: IndexStatus | None = None
        self.backend: StoreBackend | None = None
        """Where the index is kept and writes go (None: the files at ``RAG_INDEX_DIR``)."""

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Path | str],
        index_dir: Path,
        *,
        embedder: Embedder | None = None,
        chunking: ChunkingParams | None = None,
        retrieval: RetrievalParams | None = None,
        composer: ComposerParams | None = None,
        top_k: int = 16,
        rebuild: bool = False,
        progress: ProgressCallback | None = None,
        tagger: EntityTagger | None = None,
        ranker: LinearRanker | None = None,
        journal: Journal | None = None,
        answerability: AnswerabilityModel | None = None,
        reranker: Reranker | None = None,
        rerank_depth: int = 8,
        rerank_prior_weight: float = 1.0,
        rerank_skip_margin: float = 0.0,
        backend: StoreBackend | None = None,
        ann: AnnParams | None = None,
        lexical_dir: Path | None = None,
    ) -> tuple[QAPipeline, IndexStatus]:
        """Ingest ``paths`` (with ``journal``'s writes on top), open (or build) the index, return a ready pipeline."""
        articles, faq_documents = load_documents(paths) if journal is None else load_corpus(paths, journal)
        embedder = embedder or SentenceTransformerEmbedder()
        store, status = open_index(
            articles,
            embedder,
            chunking or ChunkingParams(),
            index_dir,
            rebuild=rebuild,
            progress=progress,
            tagger=tagger,
            backend=backend,
            ann=ann,
        )
        faq = [parse_faq(d.doc_id, d.text) for d in faq_documents]
        pipeline = cls(
            store,
            embedder,
            retrieval=retrieval,
            composer=composer,
            top_k=top_k,
            faq=faq,
            ranker=ranker,
            tagger=tagger,
            answerability=answerability,
            reranker=reranker,
            rerank_depth=rerank_depth,
            rerank_prior_weight=rerank_prior_weight,
            rerank_skip_margin=rerank_skip_margin,
            lexical_dir=lexical_dir,
        )
        return pipeline, status

    def with_store(self, store: IndexStore, *, faq: Sequence[FaqDocument] | None = None) -> QAPipeline:
        """A new pipeline over ``store`` with this one's embedder and parameters (for a write's swap)."""
        pipeline = QAPipeline(
            store,
            self.embedder,
            retrieval=self.retriever.params,
            composer=self.composer.params,
            top_k=self.top_k,
            faq=self.faq if faq is None else faq,
            ranker=self.ranker,
            tagger=self.tagger,
            answerability=self.answerability,
            reranker=self.reranker,
            rerank_depth=self.rerank_depth,
            rerank_prior_weight=self.rerank_prior_weight,
            rerank_skip_margin=self.rerank_skip_margin,
            lexical_dir=self.lexical_dir,
        )
        pipeline.index_status = self.index_status
        pipeline.backend = self.backend
        return pipeline

    def warm_up(self, *, writes: bool = False) -> None:
        """Load the embedding model (and the reranker and place names) now, so the first question is not
        the slow one; with ``writes``, the entity tagger too (spaCy's first use takes about 3 s, which the
        first write after a start paid)."""
        self.retriever.embed_query("warm-up")
        load_place_names()
        if self.reranker is not None:
            self.reranker.logits("warm-up", ["warm-up"])
        if writes:
            self.tagger.tag(["Warm-up in Kyiv on Monday."])

    def search(self, query: str, k: int = 10) -> list[ScoredPassage]:
        return self.retriever.search(query, k)

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        max_sentences: int | None = None,
        retrieval: dict[str, Any] | None = None,
        composer: dict[str, Any] | None = None,
        timings: dict[str, float] | None = None,
    ) -> Answer:
        """An extractive answer with citations, or an abstention.

        ``retrieval`` and ``composer`` override fields of the configured parameters for this call. A
        ``timings`` dict receives each stage's milliseconds (:data:`ASK_STAGES`), for profiling and metrics.
        """
        if is_blank(question):
            raise ValueError("question must not be empty")
        retrieval = retrieval or {}
        composer = dict(composer or {})
        if max_sentences is not None:
            composer["max_sentences"] = max_sentences
        clock = _StageClock(timings)
        vector = self.retriever.embed_query(question)
        clock.lap("encode")
        passages = self.retriever.search(question, top_k or self.top_k, query_vector=vector, **retrieval)
        clock.lap("passages")
        ranked = self.retriever.rank_sentences(question, passages, query_vector=vector, **retrieval)
        clock.lap("sentences")
        if self.reranker is not None and ranked:
            documents = self.store.documents
            ranked = rerank_sentences(
                question,
                ranked,
                self.reranker,
                lambda doc_id: documents[doc_id].title,
                depth=self.rerank_depth,
                prior_weight=self.rerank_prior_weight,
                skip_margin=self.rerank_skip_margin,
            )
        clock.lap("rerank")
        coverage = self.retriever.coverage(question, ranked)
        answer = self.composer.compose(question, ranked, coverage=coverage, **composer)
        clock.lap("compose")
        return answer


ASK_STAGES = ("encode", "passages", "sentences", "rerank", "compose")
"""The stages :meth:`QAPipeline.ask` times, in order."""


class _StageClock:
    """Milliseconds between laps, written into ``into`` (nothing is measured when it is None)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into
        self.last = time.perf_counter() if into is not None else 0.0

    def lap(self, stage: str) -> None:
        if self.into is None:
            return
        now = time.perf_counter()
        self.into[stage] = (now - self.last) * 1000
        self.last = now


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name; ``hashing`` gives the model-free test embedder."""
    if settings.model == "hashing" or settings.model.startswith("hashing-"):
        dimension = int(settings.model.partition("-")[2] or 256)
        return HashingEmbedder(dimension)
    if settings.encoder != "torch" and settings.bundled_model():
        from rag.onnx_embedding import OnnxEmbedder

        variant: OnnxVariant = "int8" if settings.encoder == "onnx-int8" else "fp32"
        onnx = OnnxEmbedder(settings.onnx_path(), variant, batch_size=settings.embed_batch_size)
        return batching(onnx, settings)
    model = SentenceTransformerEmbedder(
        settings.model,
        device=settings.device,
        batch_size=settings.embed_batch_size,
        allow_download=settings.allow_model_download,
    )
    return batching(model, settings)


def batching(embedder: Embedder, settings: Settings) -> Embedder:
    """``embedder`` behind a :class:`MicroBatchingEmbedder` as the settings say (none when ``max_batch`` is 1)."""
    if settings.max_batch == 1:
        return embedder
    return MicroBatchingEmbedder(embedder, window_ms=settings.batch_window_ms, max_batch=settings.max_batch)


def make_ranker(settings: Settings) -> LinearRanker | None:
    """The sentence ranker the settings name: the shipped one, a fitted JSON file, or none (hand-set weights)."""
    if settings.ranker == "weighted":
        return None
    return load_ranker(None if settings.ranker == "learned" else settings.ranker)


def make_answerability(settings: Settings) -> AnswerabilityModel | None:
    """The answerability model the settings name: the shipped one, a fitted JSON file, or none (the
    confidence is then the hand-set blend of cosine and BM25)."""
    if settings.answerability == "off":
        return None
    return load_answerability(None if settings.answerability == "learned" else settings.answerability)


def make_reranker(settings: Settings) -> Reranker | None:
    """The cross-encoder reranker the settings name: the shipped adapter, a fitted file, or none."""
    if settings.reranker == "off" or not settings.bundled_model():
        return None
    adapter = None if settings.reranker == "cross-encoder" else settings.reranker
    runtime: RerankRuntime
    if settings.rerank_runtime == "auto":
        # The reranker runs where the embedder runs: ONNX Runtime (exported once beside the embedder's graph) or torch.
        runtime = "torch" if settings.encoder == "torch" else "onnx"
    else:
        runtime = settings.rerank_runtime
    return CrossEncoderReranker(
        adapter, runtime=runtime, cache_dir=settings.onnx_path(), threads=settings.rerank_threads or None
    )


def build_pipeline(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
) -> QAPipeline:
    """A pipeline configured by ``settings`` over the files in ``settings.seeds_dir`` and the written
    corpus (the journal of API writes replayed on top, see :mod:`rag.corpus`)."""
    from rag.stores import make_backend

    embedder = embedder or make_embedder(settings)
    backend = make_backend(settings, dimension=embedder.dimension)
    pipeline, status = QAPipeline.from_paths(
        [require_seeds_dir(settings.seeds_dir)],
        settings.index_dir,
        embedder=embedder,
        chunking=settings.chunking(),
        retrieval=settings.retrieval(),
        composer=settings.composer(),
        top_k=settings.top_k,
        rebuild=rebuild,
        progress=progress,
        tagger=make_tagger(settings.entity_tagger),
        ranker=make_ranker(settings),
        answerability=make_answerability(settings),
        # The model-free hashing embedder (tests, demos) runs without any model, the reranker included.
        reranker=None if isinstance(embedder, HashingEmbedder) else make_reranker(settings),
        rerank_depth=settings.rerank_depth,
        rerank_prior_weight=settings.rerank_prior_weight,
        rerank_skip_margin=settings.rerank_skip_margin,
        journal=backend.journal,
        backend=backend,
        ann=settings.ann_params(),
        lexical_dir=settings.lexical_path(),
    )
    log.info("index %s at %s in %.2fs", status.action, backend.describe(), status.seconds)
    pipeline.index_status = status
    pipeline.backend = backend
    return pipeline
