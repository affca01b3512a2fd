"""The retriever's BM25 indexes and term tables saved on disk, so a server over a large corpus starts
without tokenising it again.

A saved set is a directory named by the digest of everything it is built from (every text, in order, and
the BM25 parameters), holding one bm25s index per role, one file per term table (a list of string lists:
the terms of each sentence, the words of the corpus) and ``lexical.json`` (format, digest, sizes, bm25s
version). Loading a set built from other texts is impossible by construction; a set that
cannot be read (truncated, removed half-way) is rebuilt, with a warning naming the file; a directory
that cannot be written (a read-only image) only costs the rebuild at the next start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from rag.lexical import LexicalIndex

__all__ = ["FORMAT", "LexicalSet", "LexicalSpec", "TableSpec", "lexical_digest", "load_or_build"]

log = logging.getLogger(__name__)

FORMAT = 2
MARKER = "lexical.json"
STALE_STAGING_SECONDS = 3600
"""A staging directory this old was left by a process that died while saving (a save takes minutes at most)."""


@dataclass(frozen=True)
class LexicalSpec:
    """What one BM25 index is built from."""

    texts: Sequence[str]
    k1: float = 1.2
    b: float = 0.75

    def build(self) -> LexicalIndex:
        return LexicalIndex(self.texts, k1=self.k1, b=self.b)


Table = list[list[str]]


@dataclass(frozen=True)
class TableSpec:
    """A term table: what it is computed from (for the digest) and how."""

    inputs: Sequence[str]
    compute: Callable[[], Table]


@dataclass(frozen=True)
class LexicalSet:
    indexes: dict[str, LexicalIndex]
    tables: dict[str, Table]


def _save_table(path: Path, table: Table) -> None:
    strings = sorted({s for row in table for s in row})
    at = {s: i for i, s in enumerate(strings)}
    ids = np.fromiter((at[s] for row in table for s in row), dtype=np.int64)
    ends = np.cumsum([len(row) for row in table], dtype=np.int64)
    path.mkdir(parents=True, exist_ok=True)
    (path / "strings.json").write_text(json.dumps(strings, ensure_ascii=False), encoding="utf-8")
    np.save(path / "ids.npy", ids, allow_pickle=False)
    np.save(path / "ends.npy", ends, allow_pickle=False)


def _load_table(path: Path, rows: int) -> Table:
    try:
        strings = json.loads((path / "strings.json").read_text(encoding="utf-8"))
        ids = np.load(path / "ids.npy", allow_pickle=False)
        ends = np.load(path / "ends.npy", allow_pickle=False)
    except Exception as exc:  # numpy raises many kinds on a damaged file
        raise ValueError(f"{path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(strings, list) or len(ends) != rows or (rows and int(ends[-1]) != len(ids)):
        raise ValueError(f"{path} does not hold {rows} rows")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= len(strings)):
        raise ValueError(f"{path} refers to strings it does not hold")
    words = [strings[i] for i in ids.tolist()]
    starts = [0, *ends[:-1].tolist()] if rows else []
    return [words[a:b] for a, b in zip(starts, ends.tolist(), strict=True)]


def _bm25s_version() -> str:
    try:
        return metadata.version("bm25s")
    except metadata.PackageNotFoundError:  # pragma: no cover - bm25s is a dependency
        return "unknown"


def lexical_digest(specs: Mapping[str, LexicalSpec], tables: Mapping[str, TableSpec] | None = None) -> str:
    """Digest of the roles, their parameters and texts (in order), the tables' names and inputs, the format
    and the bm25s version."""
    digest = hashlib.sha256(f"lexical:{FORMAT}:bm25s {_bm25s_version()}".encode())

    def add(label: str, texts: Sequence[str]) -> None:
        digest.update(f"\n{label}\t{len(texts)}\n".encode())
        for text in texts:
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")

    for name in sorted(specs):
        add(f"bm25 {name}\t{specs[name].k1!r}\t{specs[name].b!r}", specs[name].texts)
    for name in sorted(tables or {}):
        add(f"table {name}", (tables or {})[name].inputs)
    return digest.hexdigest()[:32]


def _recorded_digest(target: Path) -> str | None:
    try:
        record = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    digest = record.get("digest") if isinstance(record, dict) else None
    return digest if isinstance(digest, str) else None


def _load(
    target: Path, digest: str, specs: Mapping[str, LexicalSpec], tables: Mapping[str, TableSpec]
) -> LexicalSet | None:
    marker = target / MARKER
    if not marker.is_file():
        return None
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
        if record.get("format") != FORMAT or record.get("digest") != digest:
            raise ValueError(f"it records digest {record.get('digest')!r}, not {digest!r}")
        indexes = {name: LexicalIndex.load(target / name, len(spec.texts)) for name, spec in specs.items()}
        rows = record.get("table_rows", {})
        loaded = {name: _load_table(target / f"table-{name}", int(rows[name])) for name in tables}
        return LexicalSet(indexes, loaded)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the saved BM25 indexes in %s cannot be read (%s); rebuilding them", target, exc)
        return None


def _save(directory: Path, digest: str, found: LexicalSet, *, unreadable: bool) -> None:
    """Save ``indexes`` as the set ``digest``, replacing an ``unreadable`` one of that digest."""
    staging = directory / f".{digest}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
        for name, index in found.indexes.items():
            index.save(staging / name)
        for name, table in found.tables.items():
            _save_table(staging / f"table-{name}", table)
        record = {
            "format": FORMAT,
            "digest": digest,
            "bm25s": _bm25s_version(),
            "sizes": {name: index.size for name, index in found.indexes.items()},
            "table_rows": {name: len(table) for name, table in found.tables.items()},
        }
        (staging / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        target = directory / digest
        if not unreadable and _recorded_digest(target) == digest:  # another process saved it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
            return
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)  # an unreadable set of the same digest
        os.replace(staging, target)
    except (OSError, ValueError) as exc:  # ValueError: a text the file system cannot encode
        log.warning("could not save the BM25 indexes under %s (%s); they are rebuilt at the next start", directory, exc)
        shutil.rmtree(staging, ignore_errors=True)
        return
    now = time.time()
    try:
        for other in directory.iterdir():
            if not other.is_dir() or other.name == digest:
                continue
            if not other.name.startswith("."):
                if (other / MARKER).is_file():  # a set of an earlier corpus, never read again; nothing else
                    shutil.rmtree(other, ignore_errors=True)
            elif ".tmp-" in other.name and now - other.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(other, ignore_errors=True)  # left by a process killed while saving
    except OSError:  # another process renamed or removed an entry meanwhile: tidied at the next save
        pass


def load_or_build(
    directory: Path | None, specs: Mapping[str, LexicalSpec], tables: Mapping[str, TableSpec] | None = None
) -> LexicalSet:
    """The BM25 index of each role in ``specs`` and each term table in ``tables``: loaded from ``directory``
    when a set built from the same texts is saved there, otherwise built (and saved there). ``directory``
    None: always built, never saved."""
    tables = tables or {}

    def build() -> LexicalSet:
        return LexicalSet(
            {name: spec.build() for name, spec in specs.items()},
            {name: table.compute() for name, table in tables.items()},
        )

    if directory is None:
        return build()
    digest = lexical_digest(specs, tables)
    target = directory / digest
    unreadable = (target / MARKER).is_file()
    loaded = _load(target, digest, specs, tables)
    if loaded is not None:
        return loaded
    found = build()
    _save(directory, digest, found, unreadable=unreadable)
    return found
