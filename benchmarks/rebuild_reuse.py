"""Rebuilding an index after a write: the cost of reusing the unchanged documents' records and vectors.

    python -m benchmarks.rebuild_reuse [--documents 2000]

A write (``POST /documents``, ``DELETE``, ``rag index`` over a changed corpus) rebuilds the index with the
previous one given, so every unchanged document's sentences, passages, vectors and entities are copied,
not embedded again. This times that rebuild when one document of ``--documents`` changed, beside the
first build, with the deterministic hashing embedder (no model: what is timed is the bookkeeping, which
is what grows with the corpus). Documents are the seeds' four articles replicated, each copy with its
own id and a line of its own, so every copy has its own content hash.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from benchmarks.common import machine_description, run_main, utc_date
from rag.chunking import ChunkingParams
from rag.documents import Document
from rag.embedding import HashingEmbedder
from rag.ingest import load_documents
from rag.store import IndexStore

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def replicated(count: int, directory: Path) -> list[Document]:
    """``count`` documents, ingested from files: the seeds' articles in turn, each copy with a line of its own."""
    articles, _ = load_documents([SEEDS])
    if not articles:
        raise SystemExit(f"error: no articles under {SEEDS}")
    for i in range(count):
        base = articles[i % len(articles)]
        text = f"{base.text}\n\nCopy {i} of the article, for the rebuild benchmark.\n"
        (directory / f"copy-{i:06d}.txt").write_text(text, encoding="utf-8")
    return load_documents([directory])[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rebuild_reuse", description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000, help="documents in the corpus (default 2000)")
    args = parser.parse_args(argv)
    if args.documents < 2:
        raise SystemExit("error: --documents must be at least 2")
    with tempfile.TemporaryDirectory() as tmp:
        documents = replicated(args.documents, Path(tmp))
    embedder, params = HashingEmbedder(), ChunkingParams()
    started = time.perf_counter()
    first, _ = IndexStore.build(documents, embedder, params)
    first_seconds = time.perf_counter() - started
    changed = list(documents)
    changed[0] = replace(documents[0], text=documents[0].text + "One more line.\n")
    started = time.perf_counter()
    _, stats = IndexStore.build(changed, embedder, params, previous=first)
    rebuild_seconds = time.perf_counter() - started
    print(f"date: {utc_date()}")
    print(f"machine: {machine_description()}")
    print(f"documents: {len(documents)}, sentences: {len(first.sentences)}, passages: {len(first.passages)}")
    print(f"first build (hashing embedder): {first_seconds:.2f} s")
    print(
        f"rebuild after one changed document: {rebuild_seconds:.2f} s "
        f"({stats.documents_reused} reused, {stats.documents_embedded} embedded)"
    )
    return 0


if __name__ == "__main__":
    run_main(main)
