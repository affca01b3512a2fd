"""The saved index: documents, sentences, passages, their FAISS vectors and a manifest.

An index is a directory. ``manifest.json`` says how it was built (model and weights hash,
dimension, chunking, corpus fingerprint, library versions, build time) and lists every
artefact with its size and sha256, so a truncated or edited file fails loudly by name.
Saving writes a temporary directory and renames it into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from rag import __version__
from rag import ann as ann_index
from rag.ann import AnnParams
from rag.chunking import ChunkingParams, embed_sentences, passages_of, sentence_forms_embedded, sentences_of
from rag.documents import Document, Passage, Sentence
from rag.embedding import Embedder
from rag.entities import Entity, EntityTagger, RuleEntityTagger
from rag.files import file_sha256, fsync_dir, fsync_file

__all__ = [
    "PIPELINE_VERSION",
    "BuildStats",
    "IndexCorruptError",
    "IndexDirectoryError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexOutdatedError",
    "IndexStore",
    "IndexStoreError",
    "PassageSearcher",
    "Store",
    "check_index_directory",
    "corpus_fingerprint",
]

FORMAT_VERSION = 1
# Bump when cleaning, segmentation or chunking change what is indexed from the same text.
PIPELINE_VERSION = 2  # 2: entity spans per sentence (entities.jsonl)
MANIFEST = "manifest.json"
_FILES = (
    "documents.jsonl",
    "sentences.jsonl",
    "entities.jsonl",
    "passages.jsonl",
    "passages.faiss",
    "sentences.faiss",
)


class IndexStoreError(RuntimeError):
    """Base class of index problems; messages say which file and how to fix it."""


class IndexNotFoundError(IndexStoreError):
    pass


class IndexCorruptError(IndexStoreError):
    pass


class IndexDirectoryError(IndexStoreError):
    """The index directory names something that is not an index (a file, or a directory of other files):
    saving would replace it, so nothing is read from or written to it."""


class IndexMismatchError(IndexStoreError):
    pass


class IndexOutdatedError(IndexMismatchError):
    """Built by an older pipeline version of this package: rebuilding from the corpus is safe."""


def corpus_fingerprint(documents: Sequence[Document]) -> str:
    """Hash of the ids and texts of the documents and of the pipeline version."""
    digest = hashlib.sha256(f"pipeline:{PIPELINE_VERSION}".encode())
    for document in sorted(documents, key=lambda d: d.doc_id):
        digest.update(f"\n{document.doc_id}\t{document.content_hash}".encode())
    return digest.hexdigest()[:32]


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("faiss-cpu", "numpy", "sentence-transformers", "torch", "transformers", "bm25s"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _recover_retired(root: Path) -> None:
    """Put back an index moved aside by a :meth:`IndexStore.save` that died before renaming the new one in."""
    if root.exists() or not root.parent.is_dir():
        return
    candidates = sorted(root.parent.glob(f".{root.name}.old-*/{root.name}/{MANIFEST}"), key=lambda p: p.stat().st_mtime)
    if candidates:
        candidates[-1].parent.rename(root)
        fsync_dir(root.parent)


def check_index_directory(directory: Path | str) -> None:
    """Refuse a path an index must not replace: a file, or a non-empty directory without a manifest.

    Saving renames the whole directory aside and deletes it, so ``--index-dir`` pointed at a directory of
    other files (a typo, ``/etc``) must fail here rather than lose them. An empty directory, a missing one
    and an index (even a damaged one, which ``rag index --rebuild`` repairs) are accepted.
    """
    root = Path(directory)
    if not root.exists() and not root.is_symlink():
        return
    if not root.is_dir():
        raise IndexDirectoryError(f"index directory {root} is not a directory; choose a new or empty directory")
    if (root / MANIFEST).is_file():
        return
    if next(root.iterdir(), None) is not None:
        raise IndexDirectoryError(
            f"index directory {root} holds other files and no {MANIFEST}, so it is not an index; it is left "
            "untouched (saving an index would replace the whole directory): choose a new or empty directory"
        )


def _encoder_info(embedder: Embedder) -> dict[str, Any]:
    """What ran the model (an ONNX embedder names its exported graph, its cache directory and sha256)."""
    describe = getattr(embedder, "encoder_info", None)
    if callable(describe):
        info = describe()
        if isinstance(info, dict):
            return info
    return {"runtime": type(getattr(embedder, "inner", embedder)).__name__}


@dataclass
class BuildStats:
    documents_reused: int = 0
    documents_embedded: int = 0
    texts_embedded: int = 0
    seconds: float = 0.0


ProgressCallback = Callable[[int, int], None]


class PassageSearcher(Protocol):
    """Dense passage search done outside the process (e.g. pgvector): the ``k`` best rows by inner
    product with ``vector``, as ``(scores, rows)``, best first."""

    def __call__(self, vector: np.ndarray, k: int) -> tuple[list[float], list[int]]: ...


class Store(Protocol):
    """What retrieval, answer composition, the API, the CLI and the evaluation read from an index.

    Rows are positions in ``sentences`` and ``passages`` (documents sorted by id, reading order within
    each). Both backends provide it: :class:`IndexStore` loaded from files (FAISS in the process) and
    the snapshot of the PostgreSQL store (:mod:`rag.stores.postgres`, dense search in pgvector).
    """

    documents: dict[str, Document]
    sentences: list[Sentence]
    passages: list[Passage]
    entities: list[tuple[Entity, ...]]
    manifest: dict[str, Any]

    def sentence_vectors(self) -> np.ndarray: ...

    def passage_vectors(self) -> np.ndarray: ...

    def passage_vectors_at(self, rows: Sequence[int]) -> np.ndarray: ...

    def search_passages(self, vector: np.ndarray, k: int) -> tuple[list[float], list[int]]: ...


@dataclass
class IndexStore:
    """Everything retrieval needs, in memory; :meth:`save` and :meth:`load` persist it."""

    documents: dict[str, Document]
    sentences: list[Sentence]
    passages: list[Passage]
    passage_index: faiss.Index
    sentence_index: faiss.Index
    manifest: dict[str, Any] = field(default_factory=dict)
    entities: list[tuple[Entity, ...]] = field(default_factory=list)
    """Per sentence row, its named entities (document offsets), found once at index time."""
    searcher: PassageSearcher | None = field(default=None, compare=False, repr=False)
    """Where dense passage search runs when not in ``passage_index`` (the PostgreSQL backend's pgvector)."""
    version: int | None = field(default=None, compare=False)
    """The backend's version of this state (PostgreSQL: ``index_state.version``); None for files."""

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        embedder: Embedder,
        params: ChunkingParams,
        *,
        previous: IndexStore | None = None,
        progress: ProgressCallback | None = None,
        tagger: EntityTagger | None = None,
        ann: AnnParams | None = None,
    ) -> tuple[IndexStore, BuildStats]:
        """Index ``documents``; vectors and entities of documents unchanged since ``previous`` are reused.

        The passage vectors go into the index ``ann`` chooses for their number (flat below its threshold).
        """
        started = time.perf_counter()
        stats = BuildStats()
        tagger = tagger or RuleEntityTagger()
        if previous is not None and not previous.compatible_with(embedder, params, tagger.name):
            previous = None
        dimension = embedder.dimension
        sentences: list[Sentence] = []
        passages: list[Passage] = []
        sentence_vectors: list[np.ndarray] = []
        passage_vectors: list[np.ndarray] = []
        entities: list[tuple[Entity, ...]] = []
        total = len(documents)
        # One pass over the previous index, not one per document (a rebuild after a write reuses nearly all).
        previous_rows = previous.rows_by_document() if previous is not None else {}
        for done, document in enumerate(sorted(documents, key=lambda d: d.doc_id), start=1):
            rows = previous_rows.get(document.doc_id, ([], []))
            reused = previous.reuse(document, len(sentences), rows) if previous is not None else None
            if reused is not None and previous is not None:
                doc_sentences, doc_passages, s_vecs, p_vecs = reused
                doc_entities = [previous.entities[i] for i in rows[0]]
                stats.documents_reused += 1
            else:
                doc_sentences = sentences_of(document)
                doc_passages = passages_of(document, doc_sentences, len(sentences), params)
                s_vecs = embed_sentences(embedder, document.title, [s.text for s in doc_sentences], params)
                p_vecs = embedder.embed([p.text for p in doc_passages])
                doc_entities = [
                    tuple(Entity(s.start + a, s.start + b, label) for a, b, label in found)
                    for s, found in zip(doc_sentences, tagger.tag([s.text for s in doc_sentences]), strict=True)
                ]
                stats.documents_embedded += 1
                forms = sentence_forms_embedded(document.title, params)
                stats.texts_embedded += forms * len(doc_sentences) + len(doc_passages)
            sentences.extend(doc_sentences)
            passages.extend(doc_passages)
            entities.extend(doc_entities)
            sentence_vectors.append(s_vecs.reshape(-1, dimension))
            passage_vectors.append(p_vecs.reshape(-1, dimension))
            if progress is not None:
                progress(done, total)
        sentence_index = faiss.IndexFlatIP(dimension)
        if sentences:
            sentence_index.add(np.vstack(sentence_vectors).astype(np.float32))
        passage_index, ann_record = ann_index.build_index(
            np.vstack(passage_vectors) if passages else np.zeros((0, dimension), np.float32),
            dimension,
            ann or AnnParams(),
        )
        stats.seconds = time.perf_counter() - started
        store = cls(
            documents={d.doc_id: d for d in documents},
            sentences=sentences,
            passages=passages,
            passage_index=passage_index,
            sentence_index=sentence_index,
            entities=entities,
        )
        store.manifest = {
            "format_version": FORMAT_VERSION,
            "rag_version": __version__,
            "pipeline_version": PIPELINE_VERSION,
            "model": {"name": embedder.model_name, "weights_hash": embedder.weights_hash, "dimension": dimension},
            "encoder": _encoder_info(embedder),
            "chunking": params.to_dict(),
            "entity_tagger": tagger.name,
            "corpus_fingerprint": corpus_fingerprint(documents),
            "documents": {d.doc_id: d.content_hash for d in documents},
            "counts": {"documents": len(documents), "sentences": len(sentences), "passages": len(passages)},
            "libraries": _library_versions(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(stats.seconds, 3),
            "build": {"documents_reused": stats.documents_reused, "documents_embedded": stats.documents_embedded},
            "passage_index": ann_index.describe(passage_index, ann_record),
        }
        return store, stats

    def compatible_with(self, embedder: Embedder, params: ChunkingParams, tagger_name: str | None = None) -> bool:
        model = self.manifest.get("model", {})
        return (
            (tagger_name is None or self.manifest.get("entity_tagger") == tagger_name)
            and model.get("name") == embedder.model_name
            and model.get("weights_hash") == embedder.weights_hash
            and self.manifest.get("chunking") == params.to_dict()
            and self.manifest.get("pipeline_version") == PIPELINE_VERSION
        )

    def check_compatible(self, model_name: str, params: ChunkingParams, where: Path | str) -> None:
        """Refuse an index built with another model or other chunking, saying how to rebuild."""
        built_model = self.manifest.get("model", {}).get("name")
        problems = []
        if built_model != model_name:
            problems.append(f"it was built with model '{built_model}' but the settings ask for '{model_name}'")
        if self.manifest.get("chunking") != params.to_dict():
            problems.append(
                f"it was built with chunking {self.manifest.get('chunking')} "
                f"but the settings ask for {params.to_dict()}"
            )
        if self.manifest.get("pipeline_version") != PIPELINE_VERSION:
            problems.append(
                f"it was built by pipeline version {self.manifest.get('pipeline_version')}, "
                f"this is version {PIPELINE_VERSION}"
            )
        if problems:
            raise IndexMismatchError(
                f"index at {where} cannot be used: "
                + "; ".join(problems)
                + f". Rebuild it with: rag index --rebuild --index-dir {where}"
            )

    def reuse(
        self, document: Document, first_sentence_id: int, rows: tuple[list[int], list[int]]
    ) -> tuple[list[Sentence], list[Passage], np.ndarray, np.ndarray] | None:
        """This document's records and vectors if it is indexed here with the same text.

        ``rows``: its sentence and passage rows here, from :meth:`rows_by_document`.
        """
        known = self.documents.get(document.doc_id)
        if known is None or known.content_hash != document.content_hash:
            return None
        sentence_rows, passage_rows = rows
        renumber = {old: first_sentence_id + new for new, old in enumerate(sentence_rows)}
        sentences = [self.sentences[i] for i in sentence_rows]
        passages = [
            Passage(p.passage_id, p.doc_id, p.start, p.end, p.text, tuple(renumber[s] for s in p.sentence_ids))
            for p in (self.passages[i] for i in passage_rows)
        ]
        s_vecs = np.vstack([self.sentence_index.reconstruct(i) for i in sentence_rows]) if sentence_rows else None
        p_vecs = np.vstack([self.passage_index.reconstruct(i) for i in passage_rows]) if passage_rows else None
        dim = self.passage_index.d
        return (
            sentences,
            passages,
            s_vecs if s_vecs is not None else np.zeros((0, dim), np.float32),
            p_vecs if p_vecs is not None else np.zeros((0, dim), np.float32),
        )

    def rows_by_document(self) -> dict[str, tuple[list[int], list[int]]]:
        """Every document's sentence rows and passage rows, in reading order, from one pass over each."""
        rows: dict[str, tuple[list[int], list[int]]] = {}
        for i, sentence in enumerate(self.sentences):
            rows.setdefault(sentence.doc_id, ([], []))[0].append(i)
        for i, passage in enumerate(self.passages):
            rows.setdefault(passage.doc_id, ([], []))[1].append(i)
        return rows

    # ---- persistence ----------------------------------------------------------------------
    def save(self, directory: Path | str) -> Path:
        """Write the index to ``directory`` atomically: a temporary directory whose files and entries are
        fsynced, then renamed into place (and the parent directory fsynced, so the rename is durable).

        The old directory is moved aside just before the new one takes its name; if the process dies
        between those two renames, :meth:`load` puts the old one back.
        """
        check_index_directory(directory)
        target = Path(directory).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            self._write_jsonl(staging / "documents.jsonl", (d.to_dict() for d in self.documents.values()))
            self._write_jsonl(staging / "sentences.jsonl", (s.to_dict() for s in self.sentences))
            self._write_jsonl(staging / "passages.jsonl", (p.to_dict() for p in self.passages))
            self._write_jsonl(
                staging / "entities.jsonl", ([[e.start, e.end, e.label] for e in row] for row in self.entities)
            )
            faiss.write_index(self.passage_index, str(staging / "passages.faiss"))
            faiss.write_index(self.sentence_index, str(staging / "sentences.faiss"))
            for name in ("passages.faiss", "sentences.faiss"):
                fsync_file(staging / name)
            self.manifest["files"] = {
                name: {"bytes": (staging / name).stat().st_size, "sha256": file_sha256(staging / name)}
                for name in _FILES
            }
            self.manifest["passage_index"] = ann_index.describe(
                self.passage_index, self.ann_record, self.manifest["files"]["passages.faiss"]["bytes"]
            )
            with (staging / MANIFEST).open("w", encoding="utf-8") as handle:
                json.dump(self.manifest, handle, indent=2, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            staging.chmod(0o755)
            fsync_dir(staging)
            retired = None
            if target.exists():
                retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                target.rename(retired / target.name)
            staging.rename(target)
            fsync_dir(target.parent)
            if retired is not None:
                shutil.rmtree(retired, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    @staticmethod
    def _write_jsonl(path: Path, rows: Any) -> None:
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    @staticmethod
    def read_manifest(directory: Path | str) -> dict[str, Any]:
        _recover_retired(Path(directory))
        check_index_directory(directory)
        path = Path(directory) / MANIFEST
        if not path.is_file():
            raise IndexNotFoundError(f"no index at {directory} (missing {MANIFEST}); build one with: rag index")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise IndexCorruptError(
                f"{path} is not valid JSON ({exc}); repair with: rag index --rebuild --index-dir {Path(directory)}"
            ) from exc
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{path} has format version {manifest.get('format_version') if isinstance(manifest, dict) else '?'}, "
                f"expected {FORMAT_VERSION}; rebuild with: rag index --rebuild"
            )
        return manifest

    @classmethod
    def load(cls, directory: Path | str) -> IndexStore:
        """Load a saved index, checking every artefact against the manifest."""
        root = Path(directory)
        manifest = cls.read_manifest(root)
        repair = f"repair with: rag index --rebuild --index-dir {root}"
        if manifest.get("pipeline_version") != PIPELINE_VERSION:
            raise IndexOutdatedError(
                f"index at {root} was built by pipeline version {manifest.get('pipeline_version')}, "
                f"this is version {PIPELINE_VERSION}; {repair}"
            )
        for name in _FILES:
            path = root / name
            expected = manifest.get("files", {}).get(name)
            if not path.is_file() or expected is None:
                raise IndexCorruptError(f"index file {path} is missing; {repair}")
            size = path.stat().st_size
            if size != expected["bytes"]:
                raise IndexCorruptError(
                    f"index file {path} is {size} bytes, the manifest says {expected['bytes']} "
                    f"(truncated or modified); {repair}"
                )
            if file_sha256(path) != expected["sha256"]:
                raise IndexCorruptError(f"index file {path} does not match its sha256 in the manifest; {repair}")
        documents = {d.doc_id: d for d in (Document.from_dict(r) for r in cls._read_jsonl(root / "documents.jsonl"))}
        sentences = [Sentence(**r) for r in cls._read_jsonl(root / "sentences.jsonl")]
        passages = [Passage.from_dict(r) for r in cls._read_jsonl(root / "passages.jsonl")]
        entities = [
            tuple(Entity(int(a), int(b), str(label)) for a, b, label in row)
            for row in cls._read_jsonl_rows(root / "entities.jsonl")
        ]
        if len(entities) != len(sentences):
            raise IndexCorruptError(
                f"index file {root / 'entities.jsonl'} has {len(entities)} rows for {len(sentences)} sentences; "
                f"{repair}"
            )
        try:
            passage_index = faiss.read_index(str(root / "passages.faiss"))
            sentence_index = faiss.read_index(str(root / "sentences.faiss"))
        except RuntimeError as exc:
            raise IndexCorruptError(f"cannot read FAISS index in {root}: {exc}; {repair}") from exc
        if passage_index.ntotal != len(passages) or sentence_index.ntotal != len(sentences):
            raise IndexCorruptError(f"index at {root}: vector counts do not match the records; {repair}")
        try:  # the search parameters the index was saved with (an older manifest has none: flat)
            ann_index.configure(passage_index, manifest.get("passage_index"))
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"index at {root}: {exc}; {repair}") from exc
        return cls(documents, sentences, passages, passage_index, sentence_index, manifest, entities)

    @staticmethod
    def _read_jsonl(path: Path) -> list[dict[str, Any]]:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    @staticmethod
    def _read_jsonl_rows(path: Path) -> list[list[Any]]:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    # ---- helpers ----------------------------------------------------------------------------
    @property
    def ann_record(self) -> dict[str, Any]:
        """How the passage index was built (manifest ``passage_index``; flat when not recorded)."""
        record = self.manifest.get("passage_index")
        return record if isinstance(record, dict) else {"kind": "flat", "quantize": "none"}

    def passage_vectors_at(self, rows: Sequence[int]) -> np.ndarray:
        """The vectors of some passage rows (decoded, so approximate, when the index is quantised)."""
        if not len(rows):
            return np.zeros((0, self.passage_index.d), np.float32)
        return np.vstack([self.passage_index.reconstruct(int(r)) for r in rows])

    def passage_vectors(self) -> np.ndarray:
        return self.passage_index.reconstruct_n(0, self.passage_index.ntotal)

    def sentence_vectors(self) -> np.ndarray:
        return self.sentence_index.reconstruct_n(0, self.sentence_index.ntotal)

    def search_passages(self, vector: np.ndarray, k: int) -> tuple[list[float], list[int]]:
        """The ``k`` passage rows of highest inner product with ``vector``, best first (in FAISS: exact
        for a flat index, approximate for HNSW or IVF; unless a :attr:`searcher` is set)."""
        if self.searcher is not None:
            return self.searcher(vector, k)
        scores, rows = ann_index.search(self.passage_index, self.ann_record, vector, k)
        found = [(float(s), int(r)) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]
        return [s for s, _ in found], [r for _, r in found]
