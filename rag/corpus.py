"""The written corpus: articles added and deleted through the API, layered over the seed files.

Source of truth
    The effective corpus is the seed files (``RAG_SEEDS_DIR``) with the *journal* replayed on top,
    in order. The journal is an append-only JSONL file next to the index directory
    (``<index_dir>.writes.jsonl`` unless ``RAG_CORPUS_JOURNAL`` says otherwise). A ``put`` record adds
    an article or replaces the one with the same id, seed or not; a ``delete`` record is a tombstone
    that removes the id, so a deleted seed article does not come back at the next start even though
    its file is still in ``seeds/``. A seed file edited on disk still takes effect for ids the journal
    never mentions. The index is derived data: at start-up it is brought up to date with this corpus,
    re-embedding only documents whose text changed.

Commit protocol of a write (one writer at a time, under a lock)
    1. build the new index in memory, re-using the vectors of unchanged documents;
    2. append the journal records, flush and fsync: this is the commit point;
    3. save the index atomically (write a temporary directory, fsync, rename);
    4. replace the running pipeline in one assignment.
    A crash before 2 leaves the old state; a crash after 2 leaves a journal that the next start
    replays (the index is updated then). A torn last journal line (a crash inside 2) was never
    committed: it is ignored when read and cut off before the next append.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rag.documents import Document
from rag.faq import parse_faq
from rag.files import fsync_dir
from rag.ingest import IngestError, _document_from_text, load_documents
from rag.store import IndexStore

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.pipeline import QAPipeline
    from rag.stores import Journal, StoreBackend

__all__ = [
    "ArticleRecord",
    "CorpusJournal",
    "CorpusWriter",
    "DocumentNotFoundError",
    "JournalEntry",
    "JournalError",
    "WriteConflictError",
    "WriteResult",
    "apply_journal",
    "compacted",
    "load_corpus",
]

log = logging.getLogger(__name__)

_ARTICLE_FIELDS = ("id", "title", "text", "url", "published", "source")


class JournalError(IngestError):
    """The journal cannot be read; the message names the file and line."""


class DocumentNotFoundError(KeyError):
    """A delete named an id that is not in the corpus."""


class WriteConflictError(ValueError):
    """A write that cannot be applied as asked (e.g. it names the FAQ document)."""


@dataclass(frozen=True)
class ArticleRecord:
    """An article as a client writes it (the JSONL seed record format)."""

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    published: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in _ARTICLE_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleRecord:
        values = {name: data.get(name) for name in _ARTICLE_FIELDS}
        if not all(isinstance(values[name], str) for name in ("id", "text")):
            raise ValueError("an article needs a string 'id' and 'text'")
        if not all(values[name] is None or isinstance(values[name], str) for name in _ARTICLE_FIELDS):
            raise ValueError("article fields must be strings")
        return cls(
            id=str(values["id"]),
            text=str(values["text"]),
            title=values["title"],
            url=values["url"],
            published=values["published"],
            source=values["source"],
        )

    def to_document(self, origin: str | None = None) -> Document:
        """The document, cleaned exactly as a JSONL seed record with these fields would be."""
        return _document_from_text(
            self.id,
            self.text,
            path=origin,
            title=self.title or None,
            url=self.url,
            published=self.published,
            source=self.source,
        )


@dataclass(frozen=True)
class JournalEntry:
    """One committed change: ``put`` an article or ``delete`` an id."""

    op: Literal["put", "delete"]
    id: str
    article: ArticleRecord | None = None
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"op": self.op, "id": self.id, "at": self.at}
        if self.article is not None:
            data["article"] = self.article.to_dict()
        return data


class CorpusJournal:
    """The append-only JSONL record of writes; every append is fsynced before it counts."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def _scan(self) -> tuple[list[JournalEntry], int]:
        """Entries and the length in bytes of the committed prefix (a torn last line is left out)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], 0
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot be read ({exc.strerror})") from exc
        entries: list[JournalEntry] = []
        offset = 0
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            last = number == len(lines)
            if last and not raw:
                break
            try:
                entries.append(self._parse(raw))
            except (ValueError, TypeError, KeyError) as exc:
                if last:  # no final newline: a write that crashed before its fsync finished
                    log.warning(
                        "%s: ignoring a torn last line (%d bytes) left by an interrupted write", self.path, len(raw)
                    )
                    break
                raise JournalError(
                    f"{self.path}:{number}: not a journal record ({exc}); the journal is damaged before its "
                    "last line. Restore it from a backup, or remove the bad line to drop that write"
                ) from exc
            if last:  # a complete record without its newline: keep it, the next append adds the newline
                offset += len(raw)
                break
            offset += len(raw) + 1
        return entries, offset

    @staticmethod
    def _parse(raw: bytes) -> JournalEntry:
        record = json.loads(raw.decode("utf-8"))
        if not isinstance(record, dict) or record.get("op") not in ("put", "delete"):
            raise ValueError("expected an object with op 'put' or 'delete'")
        doc_id = record["id"]
        if not isinstance(doc_id, str) or not doc_id:
            raise ValueError("id must be a non-empty string")
        article = None
        if record["op"] == "put":
            article = ArticleRecord.from_dict(record["article"])
            if article.id != doc_id:
                raise ValueError("the article's id differs from the record's")
        return JournalEntry(record["op"], doc_id, article, str(record.get("at", "")))

    def read(self) -> list[JournalEntry]:
        """The committed entries, oldest first."""
        return self._scan()[0]

    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Write ``entries`` durably; returns the committed length before them (for :meth:`truncate`)."""
        _, committed = self._scan()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        payload = b"".join(json.dumps(e.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n" for e in entries)
        with self.path.open("r+b" if not created else "wb") as handle:
            handle.seek(committed)
            if committed and self._needs_newline(handle, committed):
                payload = b"\n" + payload
            handle.truncate(committed)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            fsync_dir(self.path.parent)
        return committed

    @staticmethod
    def _needs_newline(handle: Any, committed: int) -> bool:
        handle.seek(committed - 1)
        last = handle.read(1)
        handle.seek(committed)
        return bool(last != b"\n")

    def rewrite(self, entries: Sequence[JournalEntry]) -> None:
        """Replace the journal with ``entries`` atomically (temporary file, fsync, rename, directory fsync)."""
        staging = self.path.with_name(f".{self.path.name}.compact-tmp")
        with staging.open("wb") as handle:
            for entry in entries:
                handle.write(json.dumps(entry.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, self.path)
        fsync_dir(self.path.parent)

    def truncate(self, length: int) -> None:
        """Undo appends after ``length`` bytes (a write whose index could not be saved)."""
        with self.path.open("r+b") as handle:
            handle.truncate(length)
            handle.flush()
            os.fsync(handle.fileno())


def apply_journal(
    articles: Iterable[Document], entries: Iterable[JournalEntry], origin: str | None = None
) -> list[Document]:
    """The seed articles with the journal replayed on top (puts replace or add, deletes remove)."""
    by_id = {d.doc_id: d for d in articles}
    for entry in entries:
        if entry.op == "delete":
            by_id.pop(entry.id, None)
        elif entry.article is not None:
            by_id[entry.id] = entry.article.to_document(origin)
    return list(by_id.values())


def compacted(seed_ids: Set[str], entries: Sequence[JournalEntry]) -> list[JournalEntry]:
    """The shortest journal with the same effect over seeds with these ids: the last record of each id,
    dropping tombstones of ids that are not seeds (nothing is left for them to remove)."""
    last: dict[str, JournalEntry] = {}
    for entry in entries:
        last.pop(entry.id, None)  # re-insert, so the order is that of the last records
        last[entry.id] = entry
    return [e for e in last.values() if e.op == "put" or e.id in seed_ids]


def load_corpus(seeds: Sequence[Path | str], journal: Journal) -> tuple[list[Document], list[Document]]:
    """``(articles, faq_documents)``: the seed files with the journal applied to the articles."""
    articles, faqs = load_documents(seeds)
    entries = journal.read()
    if entries:
        articles = apply_journal(articles, entries, str(journal.path))
        faq_ids = {d.doc_id for d in faqs}
        articles = [d for d in articles if d.doc_id not in faq_ids]
    return articles, faqs


@dataclass
class WriteResult:
    """What a write changed, and what it cost."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    documents: int = 0
    documents_embedded: int = 0
    documents_reused: int = 0
    seconds: float = 0.0
    corpus_fingerprint: str | None = None
    journal_records_dropped: int = 0


def _same(a: Document, b: Document) -> bool:
    return (a.text, a.title, a.url, a.published, a.source) == (b.text, b.title, b.url, b.published, b.source)


class CorpusWriter:
    """Applies writes one at a time: build off to the side, commit to the journal, save, then swap.

    ``current`` returns the pipeline that serves reads now; ``publish`` makes a new one current
    (one reference assignment, so a reader sees the old pipeline or the new one, never a mix).
    Call the methods from a worker thread: they embed and write files.

    Where the index and the journal are kept is the current pipeline's backend (:mod:`rag.stores`); with
    a shared one (PostgreSQL), a write holds the backend's lock and starts from its latest state, and
    :meth:`latest` lets readers catch up with other processes' writes.
    """

    def __init__(
        self,
        settings: Settings,
        current: Callable[[], QAPipeline],
        publish: Callable[[QAPipeline], None],
        *,
        journal: CorpusJournal | None = None,
    ) -> None:
        self.settings = settings
        self._journal = journal
        self._current = current
        self._publish = publish
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    def _backend(self) -> StoreBackend:
        from rag.stores import FileBackend

        backend = self._current().backend
        if backend is not None:
            return backend
        files = FileBackend(self.settings.index_dir, self.settings.journal_path())
        if self._journal is not None:
            files.journal = self._journal
        return files

    @property
    def journal(self) -> Journal:
        return self._backend().journal

    def latest(self) -> QAPipeline:
        """The current pipeline, first reloaded if another process has written to a shared backend since."""
        pipeline = self._current()
        backend = pipeline.backend
        if backend is None:
            return pipeline
        version = backend.current_version()
        if version is None or version == pipeline.store.version:
            return pipeline
        with self._refresh_lock:
            pipeline = self._current()
            if pipeline.store.version != version:
                store = backend.load()
                log.info("index changed in %s (version %s): reloaded", backend.describe(), store.version)
                pipeline = pipeline.with_store(store)
                self._publish(pipeline)
        return pipeline

    def put(self, articles: Sequence[ArticleRecord]) -> WriteResult:
        """Add articles or replace those with the same ids; unchanged ones cost nothing."""
        with self._lock, self._backend().write_lock():
            started = time.perf_counter()
            pipeline = self.latest()
            faq_ids = {faq.doc_id for faq in pipeline.faq}
            result = WriteResult()
            documents = dict(pipeline.store.documents)
            entries = []
            stale: set[str] = set()
            for record in articles:
                if record.id in faq_ids:
                    raise WriteConflictError(f"id '{record.id}' is the FAQ document's; articles need another id")
                document = record.to_document(str(self.journal.path))
                known = documents.get(record.id)
                if known is not None and _same(known, document):
                    result.unchanged.append(record.id)
                    continue
                (result.added if known is None else result.updated).append(record.id)
                if known is not None and known.title != document.title:
                    stale.add(record.id)  # same text, new title: the title is part of the sentence vectors
                documents[record.id] = document
                entries.append(JournalEntry("put", record.id, record))
            return self._commit(pipeline, documents, entries, result, started, stale=stale)

    def delete(self, doc_id: str) -> WriteResult:
        """Remove an article; a tombstone in the journal keeps a seed article from coming back."""
        with self._lock, self._backend().write_lock():
            started = time.perf_counter()
            pipeline = self.latest()
            if doc_id not in pipeline.store.documents:
                raise DocumentNotFoundError(doc_id)
            documents = {k: v for k, v in pipeline.store.documents.items() if k != doc_id}
            result = WriteResult(deleted=[doc_id])
            return self._commit(pipeline, documents, [JournalEntry("delete", doc_id)], result, started)

    def reindex(self, *, full: bool = False, compact: bool = False) -> WriteResult:
        """Re-read the seed files and the journal and bring the index up to date (``full``: re-embed all;
        ``compact``: first rewrite the journal to one record per written or deleted id)."""
        with self._lock, self._backend().write_lock():
            started = time.perf_counter()
            pipeline = self.latest()
            dropped = self._compact() if compact else 0
            articles, faqs = load_corpus([self.settings.seeds_dir], self.journal)
            new = {d.doc_id: d for d in articles}
            old = pipeline.store.documents
            result = WriteResult(
                added=sorted(set(new) - set(old)),
                deleted=sorted(set(old) - set(new)),
                updated=sorted(k for k in set(new) & set(old) if not _same(new[k], old[k])),
            )
            stale = {k for k in result.updated if new[k].title != old[k].title}
            result.journal_records_dropped = dropped
            faq = [parse_faq(d.doc_id, d.text) for d in faqs]
            return self._commit(pipeline, new, [], result, started, stale=stale, full=full, faq=faq)

    def _compact(self) -> int:
        """Rewrite the journal without superseded records; returns how many were dropped."""
        entries = self.journal.read()
        seeds, _ = load_documents([self.settings.seeds_dir])
        shorter = compacted({d.doc_id for d in seeds}, entries)
        if len(shorter) == len(entries):
            return 0
        before = {d.doc_id: d.text for d in apply_journal(seeds, entries)}
        if {d.doc_id: d.text for d in apply_journal(seeds, shorter)} != before:  # never expected; never risked
            raise WriteConflictError("compaction would change the corpus; the journal was left as it is")
        self.journal.rewrite(shorter)
        log.info("journal compacted: %d records dropped, %d kept", len(entries) - len(shorter), len(shorter))
        return len(entries) - len(shorter)

    def _commit(
        self,
        pipeline: QAPipeline,
        documents: dict[str, Document],
        entries: Sequence[JournalEntry],
        result: WriteResult,
        started: float,
        *,
        stale: Set[str] = frozenset(),
        full: bool = False,
        faq: list[Any] | None = None,
    ) -> WriteResult:
        changed = bool(entries) or result.added or result.updated or result.deleted or full or faq is not None
        if not changed:
            result.documents = len(pipeline.store.documents)
            result.corpus_fingerprint = pipeline.store.manifest.get("corpus_fingerprint")
            result.seconds = round(time.perf_counter() - started, 4)
            return result
        previous: IndexStore | None = None
        if not full:
            previous = pipeline.store
            if stale:
                previous = replace(previous, documents={k: v for k, v in previous.documents.items() if k not in stale})
        store, stats = IndexStore.build(
            list(documents.values()),
            pipeline.embedder,
            self.settings.chunking(),
            previous=previous,
            tagger=pipeline.tagger,
            ann=self.settings.ann_params(),
        )
        store = self._backend().commit(store, entries, pipeline.store)
        self._publish(pipeline.with_store(store, faq=faq))
        result.documents = len(store.documents)
        result.documents_embedded = stats.documents_embedded
        result.documents_reused = stats.documents_reused
        result.corpus_fingerprint = store.manifest.get("corpus_fingerprint")
        result.seconds = round(time.perf_counter() - started, 4)
        log.info(
            "write applied: %d added, %d updated, %d deleted, %d embedded, %d reused in %.2fs",
            len(result.added),
            len(result.updated),
            len(result.deleted),
            stats.documents_embedded,
            stats.documents_reused,
            result.seconds,
        )
        return result
