"""Where an index is kept: the backends behind :class:`rag.store.IndexStore`.

Two implementations of :class:`StoreBackend`:

- :class:`FileBackend` (the default, ``RAG_STORE=files``): a directory with FAISS indexes and a manifest,
  and the append-only file journal of API writes next to it (see :mod:`rag.corpus`);
- :class:`rag.stores.postgres.PostgresBackend` (``RAG_STORE=postgres`` with ``RAG_DATABASE_URL``): one
  PostgreSQL database with pgvector that every API replica shares; the journal is a table in it.

Both hand the pipeline an :class:`IndexStore` (the in-memory view retrieval reads, the
:class:`rag.store.Store` protocol); the PostgreSQL one runs dense passage search in pgvector and carries
the database's version, so a replica sees another's write at its next request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rag.store import IndexStore

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.corpus import JournalEntry

__all__ = ["FileBackend", "Journal", "StoreBackend", "make_backend", "redact_url"]


def redact_url(url: str) -> str:
    """A database URL (or ``key=value`` connection string) with its password masked."""
    masked = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1****@", url)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1****", masked, flags=re.IGNORECASE)


class Journal(Protocol):
    """The written corpus: API writes replayed over the seed files (see :mod:`rag.corpus`)."""

    @property
    def path(self) -> Path:
        """Where written articles come from (their documents' ``path``)."""
        ...

    def read(self) -> list[JournalEntry]: ...

    def rewrite(self, entries: Sequence[JournalEntry]) -> None: ...


class StoreBackend(Protocol):
    """What the pipeline, the write API and the CLI need from where an index is kept."""

    name: str

    @property
    def journal(self) -> Journal: ...

    def describe(self) -> str:
        """Where the index is, for messages (a database URL with its password masked)."""
        ...

    def load(self) -> IndexStore:
        """The saved index; :class:`rag.store.IndexNotFoundError` when there is none yet, another
        :class:`rag.store.IndexStoreError` when it cannot be used."""
        ...

    def commit(
        self, store: IndexStore, entries: Sequence[JournalEntry] = (), previous: IndexStore | None = None
    ) -> IndexStore:
        """Make ``store`` the saved index and append ``entries`` to the journal, all or nothing; returns
        the store as readers see it (``previous``: what it was built from, so only the difference is written)."""
        ...

    def current_version(self) -> int | None:
        """The saved index's version now (cheap); None when no other process can change it."""
        ...

    def write_lock(self) -> AbstractContextManager[None]:
        """Held around a whole write (read, build, commit), excluding writers of other processes."""
        ...

    def close(self) -> None: ...


class FileBackend:
    """An index directory (FAISS + JSONL + manifest) and the file journal beside it."""

    name = "files"

    def __init__(self, index_dir: Path, journal_path: Path | None = None) -> None:
        from rag.corpus import CorpusJournal

        self.index_dir = Path(index_dir)
        self.journal: CorpusJournal = CorpusJournal(
            journal_path or self.index_dir.parent / f"{self.index_dir.name}.writes.jsonl"
        )

    def describe(self) -> str:
        return str(self.index_dir)

    def load(self) -> IndexStore:
        return IndexStore.load(self.index_dir)

    def commit(
        self, store: IndexStore, entries: Sequence[JournalEntry] = (), previous: IndexStore | None = None
    ) -> IndexStore:
        """Append the journal records (fsynced: the commit point), then save the directory atomically;
        a failed save undoes the append."""
        committed = self.journal.append(entries) if entries else None
        try:
            store.save(self.index_dir)
        except BaseException:
            if committed is not None:
                self.journal.truncate(committed)
            raise
        return store

    def current_version(self) -> int | None:
        return None

    @contextmanager
    def _no_lock(self) -> Iterator[None]:
        yield

    def write_lock(self) -> AbstractContextManager[None]:
        return self._no_lock()  # one process owns the directory; CorpusWriter's thread lock suffices

    def close(self) -> None:
        return None


def make_backend(settings: Settings, *, dimension: int) -> StoreBackend:
    """The backend ``RAG_STORE`` names (``dimension``: the embedding model's, for the PostgreSQL schema)."""
    if settings.store == "postgres":
        from rag.stores.postgres import PostgresBackend

        return PostgresBackend.from_settings(settings, dimension=dimension)
    return FileBackend(settings.index_dir, settings.journal_path())
