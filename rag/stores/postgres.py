"""The index in PostgreSQL with pgvector: one database that every API replica shares.

Schema (``rag/stores/migrations``, applied in order and recorded in ``schema_migrations``): ``documents``
(original text and metadata), ``sentences`` and ``passages`` (offsets into the text, entities, a
``vector(d)`` column; passages also a ``tsvector`` with a GIN index and an HNSW index on the vectors),
``corpus_writes`` (the journal of API writes) and one ``index_state`` row (version and manifest).

Consistency
    A commit is one transaction: the journal records, the changed documents (deleted, then copied in
    with binary COPY) and the state row's version bump. It first locks the state row, so two commits
    never interleave; a whole write (read, embed, commit) also holds an advisory lock, so a writer in
    another process waits and then builds on the newer state. A snapshot is read in one REPEATABLE READ
    transaction, so a reader never sees half a document. Every request compares the snapshot's version
    with the database's (one indexed single-row read) and reloads when another process wrote.

Dense passage search runs in the database (HNSW, inner product on unit vectors = cosine, as FAISS's
``IndexFlatIP`` in the file backend); sentences' and passages' vectors, texts and entities are also held
in memory, because the answer's features (neighbours, coverage, BM25 of every candidate) read them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from rag.documents import Document, Passage, Sentence
from rag.entities import Entity
from rag.store import (
    PIPELINE_VERSION,
    IndexMismatchError,
    IndexNotFoundError,
    IndexOutdatedError,
    IndexStore,
    IndexStoreError,
)
from rag.stores import redact_url

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.corpus import JournalEntry

__all__ = ["DatabaseError", "PostgresBackend", "PostgresJournal", "migrations", "redact_url"]

log = logging.getLogger(__name__)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Keys of the manifest that decide whether stored vectors can be kept (otherwise a commit replaces all).
_BUILD_KEYS = ("model", "chunking", "entity_tagger", "pipeline_version")
_LOCK_NAMESPACE = 0x5241  # "RA": advisory locks of this package, keyed by schema
_WORD = re.compile(r"[^\W_]+")


class DatabaseError(IndexStoreError):
    """The database cannot be reached or used; the message names RAG_DATABASE_URL (password masked)."""


def migrations() -> list[tuple[int, str, str]]:
    """``(number, name, sql)`` of every migration file, in order."""
    found = []
    for entry in resources.files("rag.stores").joinpath("migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def record_hash(document: Document) -> str:
    """Hash of everything stored of a document (a new title or url is a change, not only new text)."""
    return hashlib.sha256(json.dumps(document.to_dict(), sort_keys=True).encode("utf-8")).hexdigest()[:32]


def _lock_key(schema: str) -> int:
    return int.from_bytes(hashlib.sha256(schema.encode()).digest()[:4], "big") - 2**31


class PostgresJournal:
    """The journal of API writes as the ``corpus_writes`` table (appended inside a commit's transaction)."""

    def __init__(self, backend: PostgresBackend) -> None:
        self._backend = backend
        self.path = Path(f"{backend.schema}.corpus_writes")
        """Where written articles come from (recorded as their documents' ``path``)."""

    def read(self) -> list[JournalEntry]:
        from rag.corpus import ArticleRecord, JournalEntry

        with self._backend.connection() as conn:
            rows = conn.execute("SELECT op, doc_id, article, at FROM corpus_writes ORDER BY seq").fetchall()
        return [
            JournalEntry(op, doc_id, ArticleRecord.from_dict(article) if article is not None else None, at)
            for op, doc_id, article, at in rows
        ]

    @staticmethod
    def append_in(conn: psycopg.Connection[Any], entries: Sequence[JournalEntry]) -> None:
        if not entries:
            return
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO corpus_writes (op, doc_id, article, at) VALUES (%s, %s, %s, %s)",
                [(e.op, e.id, Jsonb(e.article.to_dict()) if e.article is not None else None, e.at) for e in entries],
            )

    def rewrite(self, entries: Sequence[JournalEntry]) -> None:
        with self._backend.connection() as conn, conn.transaction():
            conn.execute("DELETE FROM corpus_writes")
            self.append_in(conn, entries)


class PostgresBackend:
    """The :class:`rag.stores.StoreBackend` over one PostgreSQL schema."""

    name = "postgres"

    def __init__(
        self,
        url: str,
        *,
        dimension: int,
        schema: str = "rag",
        pool_size: int = 4,
        ef_search: int = 100,
        connect_timeout: float = 5.0,
    ) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise DatabaseError(f"RAG_DATABASE_SCHEMA must be a lower-case SQL identifier, not {schema!r}")
        self.url = url
        self.schema = schema
        self.dimension = dimension
        self.ef_search = ef_search
        self.journal = PostgresJournal(self)
        self._connect_timeout = connect_timeout
        self._kwargs: dict[str, Any] = {
            "connect_timeout": max(1, round(connect_timeout)),
            "options": f"-c search_path={schema},public",
        }
        self._migrate()
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(2, pool_size),
            kwargs=self._kwargs,
            configure=register_vector,
            open=False,
            name=f"rag-{schema}",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise self._unreachable(exc) from None
        self._thread_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, dimension: int) -> PostgresBackend:
        if settings.database_url is None:
            raise DatabaseError("RAG_STORE=postgres needs RAG_DATABASE_URL (e.g. postgresql://user:pass@host/db)")
        return cls(
            settings.database_url.get_secret_value(),
            dimension=dimension,
            schema=settings.database_schema,
            pool_size=settings.database_pool_size,
            ef_search=settings.database_ef_search,
            connect_timeout=settings.database_connect_timeout,
        )

    # ---- connections ------------------------------------------------------------------------
    def describe(self) -> str:
        return f"{redact_url(self.url)} (schema {self.schema})"

    def _unreachable(self, exc: BaseException) -> DatabaseError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DatabaseError(f"cannot use the database at RAG_DATABASE_URL={redact_url(self.url)}: {reason}")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; database failures become :class:`DatabaseError`."""
        try:
            with self._pool.connection(timeout=self._connect_timeout) as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise self._unreachable(exc) from None

    def _migrate(self) -> None:
        """Create the schema and apply the migrations not yet recorded (one process at a time)."""
        try:
            conn = psycopg.connect(self.url, autocommit=True, **self._kwargs)
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NAMESPACE, _lock_key(self.schema) ^ 1))
                try:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
                except psycopg.Error as exc:
                    raise DatabaseError(
                        f"the pgvector extension is not available in the database at {self.describe()}: {exc}. "
                        "Install pgvector on the server (scripts/postgres.sh provides one) or ask its administrator "
                        "to run CREATE EXTENSION vector"
                    ) from None
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())"
                )
                applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
                for number, name, sql in migrations():
                    if number in applied:
                        continue
                    log.info("database %s: applying migration %s", self.describe(), name)
                    conn.execute(sql.replace("{dimension}", str(int(self.dimension))).encode())
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (number, name))
                row = conn.execute("SELECT dimension FROM index_state").fetchone()
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from None
        finally:
            conn.close()
        if row is None or int(row[0]) != self.dimension:
            raise IndexMismatchError(
                f"the database at {self.describe()} holds vectors of dimension {row[0] if row else '?'}, the model "
                f"gives {self.dimension}: use another RAG_DATABASE_SCHEMA, or drop schema {self.schema} to rebuild"
            )

    def close(self) -> None:
        self._pool.close()

    # ---- reading ----------------------------------------------------------------------------
    def current_version(self) -> int:
        with self.connection() as conn:
            row = conn.execute("SELECT version FROM index_state").fetchone()
        return int(row[0]) if row else 0

    def load(self) -> IndexStore:
        """The whole index as one consistent snapshot (REPEATABLE READ), dense search bound to the database."""
        with self.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            state = conn.execute("SELECT version, manifest FROM index_state").fetchone()
            if state is None or int(state[0]) == 0:
                raise IndexNotFoundError(f"no index in the database at {self.describe()}; build one with: rag index")
            version, manifest = int(state[0]), dict(state[1])
            if manifest.get("pipeline_version") != PIPELINE_VERSION:
                raise IndexOutdatedError(
                    f"the index in the database at {self.describe()} was built by pipeline version "
                    f"{manifest.get('pipeline_version')}, this is version {PIPELINE_VERSION}; "
                    "rebuild it with: rag index --rebuild"
                )
            documents: dict[str, Document] = {}
            for doc_id, title, text, metadata in conn.execute(
                "SELECT doc_id, title, text, metadata FROM documents ORDER BY doc_id"
            ):
                documents[doc_id] = Document.from_dict({**metadata, "doc_id": doc_id, "title": title, "text": text})
            sentence_rows = conn.execute(
                "SELECT doc_id, ordinal, start_offset, end_offset, section, is_heading, entities, embedding "
                "FROM sentences ORDER BY doc_id, ordinal",
                binary=True,
            ).fetchall()
            passage_rows = conn.execute(
                "SELECT doc_id, ordinal, passage_id, start_offset, end_offset, sentence_ordinals, embedding "
                "FROM passages ORDER BY doc_id, ordinal",
                binary=True,
            ).fetchall()
        sentences: list[Sentence] = []
        entities: list[tuple[Entity, ...]] = []
        first_row: dict[str, int] = {}
        for doc_id, ordinal, start, end, section, heading, found, _ in sentence_rows:
            if ordinal == 0:
                first_row[doc_id] = len(sentences)
            sentences.append(Sentence(doc_id, start, end, documents[doc_id].text[start:end], section, heading))
            entities.append(tuple(Entity(int(a), int(b), str(label)) for a, b, label in found))
        passages = [
            Passage(
                pid, doc_id, start, end, documents[doc_id].text[start:end], tuple(first_row[doc_id] + o for o in ords)
            )
            for doc_id, _, pid, start, end, ords, _ in passage_rows
        ]
        store = IndexStore(
            documents=documents,
            sentences=sentences,
            passages=passages,
            passage_index=self._flat([row[-1] for row in passage_rows]),
            sentence_index=self._flat([row[-1] for row in sentence_rows]),
            manifest=manifest,
            entities=entities,
        )
        return self._bind(store, version)

    def _flat(self, vectors: Sequence[Vector]) -> faiss.Index:
        index = faiss.IndexFlatIP(self.dimension)
        if vectors:
            index.add(np.vstack([np.asarray(v.to_numpy(), dtype=np.float32) for v in vectors]))
        return index

    def _bind(self, store: IndexStore, version: int) -> IndexStore:
        """``store`` with dense passage search in the database and the database's version."""
        rows: dict[tuple[str, int], int] = {}
        ordinal: dict[str, int] = {}
        for row, passage in enumerate(store.passages):
            n = ordinal.get(passage.doc_id, 0)
            rows[(passage.doc_id, n)] = row
            ordinal[passage.doc_id] = n + 1

        def search(vector: np.ndarray, k: int) -> tuple[list[float], list[int]]:
            found = self.search_passages(vector, k)
            hits = [(score, rows[key]) for key, score in found if key in rows]  # newer rows: next snapshot
            return [s for s, _ in hits], [r for _, r in hits]

        return replace(store, searcher=search, version=version)

    def search_passages(self, vector: np.ndarray, k: int) -> list[tuple[tuple[str, int], float]]:
        """``((doc_id, ordinal), inner product)`` of the ``k`` nearest passages by the HNSW index."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self.connection() as conn, conn.transaction():
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(min(1000, max(self.ef_search, k))),))
            if k > 1000:  # past ef_search's ceiling, pgvector 0.8 keeps scanning the graph in order
                conn.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
            rows = conn.execute(
                "SELECT doc_id, ordinal, (embedding <#> %s) * -1 FROM passages ORDER BY embedding <#> %s LIMIT %s",
                (query, query, k),
            ).fetchall()
        return [((doc_id, int(ordinal)), float(score)) for doc_id, ordinal, score in rows]

    def lexical_search(self, query: str, k: int) -> list[tuple[tuple[str, int], float]]:
        """Passages matching any word of ``query`` by full-text search (GIN on ``tsv``), ranked by
        ``ts_rank_cd``: the lexical half of hybrid retrieval in the database."""
        words = _WORD.findall(query)
        if not words:
            return []
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT doc_id, ordinal, ts_rank_cd(tsv, q) AS score FROM passages, to_tsquery('english', %s) q "
                "WHERE tsv @@ q ORDER BY score DESC, doc_id, ordinal LIMIT %s",
                (" | ".join(words), k),
            ).fetchall()
        return [((doc_id, int(ordinal)), float(score)) for doc_id, ordinal, score in rows]

    # ---- writing ----------------------------------------------------------------------------
    def write_lock(self) -> AbstractContextManager[None]:
        return self._advisory_lock()

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        with self._thread_lock, self.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, _lock_key(self.schema)))
            conn.commit()
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_LOCK_NAMESPACE, _lock_key(self.schema)))
                conn.commit()

    def commit(
        self, store: IndexStore, entries: Sequence[JournalEntry] = (), previous: IndexStore | None = None
    ) -> IndexStore:
        """Write the difference between the database and ``store`` and the journal ``entries`` in one
        transaction; refused when another process committed since ``previous`` was read."""
        from rag.corpus import WriteConflictError

        if store.passage_index.d != self.dimension:
            raise IndexMismatchError(
                f"vectors of dimension {store.passage_index.d} cannot go into {self.describe()} "
                f"(dimension {self.dimension})"
            )
        with self.connection() as conn:
            try:
                with conn.transaction():
                    state = conn.execute("SELECT version, manifest FROM index_state FOR UPDATE").fetchone()
                    assert state is not None  # created by the first migration
                    version, manifest = int(state[0]), dict(state[1])
                    if previous is not None and previous.version is not None and previous.version != version:
                        raise WriteConflictError(
                            f"the index changed in the database since it was read (version {previous.version}, "
                            f"now {version}); retry the write"
                        )
                    same_build = all(manifest.get(key) == store.manifest.get(key) for key in _BUILD_KEYS)
                    existing: dict[str, str] = (
                        dict(conn.execute("SELECT doc_id, record_hash FROM documents").fetchall()) if same_build else {}
                    )
                    wanted = {doc_id: record_hash(d) for doc_id, d in store.documents.items()}
                    if not same_build:
                        conn.execute("DELETE FROM documents")
                    remove = [doc_id for doc_id, h in existing.items() if wanted.get(doc_id) != h]
                    add = sorted(doc_id for doc_id, h in wanted.items() if existing.get(doc_id) != h)
                    if remove:
                        conn.execute("DELETE FROM documents WHERE doc_id = ANY(%s)", (remove,))
                    self._copy_documents(conn, store, add, wanted)
                    PostgresJournal.append_in(conn, entries)
                    saved = {k: v for k, v in store.manifest.items() if k != "files"}
                    row = conn.execute(
                        "UPDATE index_state SET version = version + 1, manifest = %s, updated_at = now() "
                        "RETURNING version",
                        (Jsonb(saved),),
                    ).fetchone()
                    assert row is not None
            except psycopg.OperationalError as exc:
                raise self._unreachable(exc) from None
        log.info(
            "database %s: version %d: %d documents written, %d removed", self.describe(), row[0], len(add), len(remove)
        )
        return self._bind(store, int(row[0]))

    def _copy_documents(
        self, conn: psycopg.Connection[Any], store: IndexStore, doc_ids: Sequence[str], hashes: dict[str, str]
    ) -> None:
        """Binary COPY of the documents ``doc_ids`` with their sentences and passages."""
        if not doc_ids:
            return
        wanted = set(doc_ids)
        sentence_rows: dict[str, list[int]] = {}
        for row, sentence in enumerate(store.sentences):
            if sentence.doc_id in wanted:
                sentence_rows.setdefault(sentence.doc_id, []).append(row)
        passage_rows: dict[str, list[int]] = {}
        for row, passage in enumerate(store.passages):
            if passage.doc_id in wanted:
                passage_rows.setdefault(passage.doc_id, []).append(row)
        with conn.cursor() as cur:
            with cur.copy(
                "COPY documents (doc_id, content_hash, record_hash, title, text, metadata) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "text", "text", "text", "text", "jsonb"])
                for doc_id in doc_ids:
                    document = store.documents[doc_id]
                    metadata = {k: v for k, v in document.to_dict().items() if k not in ("doc_id", "title", "text")}
                    copy.write_row(
                        (doc_id, document.content_hash, hashes[doc_id], document.title, document.text, Jsonb(metadata))
                    )
            with cur.copy(
                "COPY sentences (doc_id, ordinal, start_offset, end_offset, section, is_heading, entities, embedding) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "int4", "int4", "int4", "int4", "bool", "jsonb", "vector"])
                for doc_id in doc_ids:
                    for ordinal, row in enumerate(sentence_rows.get(doc_id, [])):
                        s = store.sentences[row]
                        found = [
                            [e.start, e.end, e.label]
                            for e in (store.entities[row] if row < len(store.entities) else ())
                        ]
                        vector = store.sentence_index.reconstruct(row)
                        copy.write_row((doc_id, ordinal, s.start, s.end, s.section, s.is_heading, Jsonb(found), vector))
            with cur.copy(
                "COPY passages (doc_id, ordinal, passage_id, start_offset, end_offset, sentence_ordinals, "
                "lexical_text, embedding) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "int4", "text", "int4", "int4", "int4[]", "text", "vector"])
                for doc_id in doc_ids:
                    first = sentence_rows.get(doc_id, [0])[0]
                    title = store.documents[doc_id].title
                    for ordinal, row in enumerate(passage_rows.get(doc_id, [])):
                        p = store.passages[row]
                        copy.write_row(
                            (
                                doc_id,
                                ordinal,
                                p.passage_id,
                                p.start,
                                p.end,
                                [i - first for i in p.sentence_ids],
                                f"{title}: {p.text}" if title else p.text,
                                store.passage_index.reconstruct(row),
                            )
                        )
