"""The retriever's BM25 indexes saved on disk, so a server over a large corpus starts without tokenising it.

A saved set is a directory named by the digest of everything the indexes are built from (every text, in
order, and the BM25 parameters), holding one bm25s index per role and ``lexical.json`` (format, digest,
sizes, bm25s version). Loading a set built from other texts is impossible by construction; a set that
cannot be read (truncated, removed half-way) is rebuilt, with a warning naming the file; a directory
that cannot be written (a read-only image) only costs the rebuild at the next start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rag.lexical import LexicalIndex

__all__ = ["FORMAT", "LexicalSpec", "lexical_digest", "load_or_build"]

log = logging.getLogger(__name__)

FORMAT = 1
MARKER = "lexical.json"


@dataclass(frozen=True)
class LexicalSpec:
    """What one BM25 index is built from."""

    texts: Sequence[str]
    k1: float = 1.2
    b: float = 0.75

    def build(self) -> LexicalIndex:
        return LexicalIndex(self.texts, k1=self.k1, b=self.b)


def _bm25s_version() -> str:
    try:
        return metadata.version("bm25s")
    except metadata.PackageNotFoundError:  # pragma: no cover - bm25s is a dependency
        return "unknown"


def lexical_digest(specs: Mapping[str, LexicalSpec]) -> str:
    """Digest of the roles, their parameters and texts (in order), the format and the bm25s version."""
    digest = hashlib.sha256(f"lexical:{FORMAT}:bm25s {_bm25s_version()}".encode())
    for name in sorted(specs):
        spec = specs[name]
        digest.update(f"\n{name}\t{spec.k1!r}\t{spec.b!r}\t{len(spec.texts)}\n".encode())
        for text in spec.texts:
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
    return digest.hexdigest()[:32]


def _recorded_digest(target: Path) -> str | None:
    try:
        record = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    digest = record.get("digest") if isinstance(record, dict) else None
    return digest if isinstance(digest, str) else None


def _load(target: Path, digest: str, specs: Mapping[str, LexicalSpec]) -> dict[str, LexicalIndex] | None:
    marker = target / MARKER
    if not marker.is_file():
        return None
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
        if record.get("format") != FORMAT or record.get("digest") != digest:
            raise ValueError(f"it records digest {record.get('digest')!r}, not {digest!r}")
        indexes = {}
        for name, spec in specs.items():
            index = LexicalIndex.load(target / name, len(spec.texts))
            indexes[name] = index
        return indexes
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the saved BM25 indexes in %s cannot be read (%s); rebuilding them", target, exc)
        return None


def _save(directory: Path, digest: str, indexes: Mapping[str, LexicalIndex], *, unreadable: bool) -> None:
    """Save ``indexes`` as the set ``digest``, replacing an ``unreadable`` one of that digest."""
    staging = directory / f".{digest}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
        for name, index in indexes.items():
            index.save(staging / name)
        record = {
            "format": FORMAT,
            "digest": digest,
            "bm25s": _bm25s_version(),
            "sizes": {name: index.size for name, index in indexes.items()},
        }
        (staging / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        target = directory / digest
        if not unreadable and _recorded_digest(target) == digest:  # another process saved it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
            return
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)  # an unreadable set of the same digest
        os.replace(staging, target)
    except OSError as exc:
        log.warning("could not save the BM25 indexes under %s (%s); they are rebuilt at the next start", directory, exc)
        shutil.rmtree(staging, ignore_errors=True)
        return
    for other in directory.iterdir():  # sets of earlier corpora are never read again
        if other.is_dir() and other.name != digest and not other.name.startswith("."):
            shutil.rmtree(other, ignore_errors=True)


def load_or_build(directory: Path | None, specs: Mapping[str, LexicalSpec]) -> dict[str, LexicalIndex]:
    """The BM25 index of each role in ``specs``: loaded from ``directory`` when a set built from the same
    texts is saved there, otherwise built (and saved there). ``directory`` None: always built, never saved."""
    if directory is None:
        return {name: spec.build() for name, spec in specs.items()}
    digest = lexical_digest(specs)
    target = directory / digest
    unreadable = (target / MARKER).is_file()
    loaded = _load(target, digest, specs)
    if loaded is not None:
        return loaded
    indexes = {name: spec.build() for name, spec in specs.items()}
    _save(directory, digest, indexes, unreadable=unreadable)
    return indexes
