"""Shared helpers of the benchmark scripts: data paths, batched embedding, metrics, tables and docs."""

from __future__ import annotations

import hashlib
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from rag import __version__ as rag_version
from rag.embedding import SentenceTransformerEmbedder, WrappedEmbedder

__all__ = [
    "DOCS_FILE",
    "REPO_ROOT",
    "DataMissingError",
    "PrecomputedEmbedder",
    "ResultTable",
    "Stopwatch",
    "console",
    "default_data_path",
    "machine_description",
    "markdown_table",
    "mrr_at_k",
    "ndcg_at_k",
    "recall_at_k",
    "require_file",
    "run_main",
    "self_check_metrics",
    "track",
    "update_docs_section",
    "utc_date",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_FILE = REPO_ROOT / "docs" / "benchmarks.md"
console = Console(stderr=True)
T = TypeVar("T")


class DataMissingError(RuntimeError):
    """A benchmark data file is not where the script was told to look."""


def default_data_path(relative: str) -> Path:
    """``relative`` under ``../shared/benchmarks`` next to the repository root."""
    return REPO_ROOT / ".." / "shared" / "benchmarks" / relative


def require_file(path: Path, what: str) -> Path:
    """Return ``path`` resolved, or raise :class:`DataMissingError` naming it."""
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise DataMissingError(f"{what} not found at {resolved}; pass the right location with --data")
    return resolved


def run_main(main: Callable[[Sequence[str] | None], int]) -> None:
    """Run a benchmark's ``main`` and turn a missing data file into exit status 2 without a traceback."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # The scripts ask the same questions again and again to time answering them, not the answer cache.
    os.environ.setdefault("RAG_ANSWER_CACHE_SIZE", "0")
    try:
        status = main(None)
    except DataMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)


def track(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    """Iterate ``items`` with a progress bar on stderr."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)


@dataclass
class Stopwatch:
    """Wall-clock timer for the phases of a run."""

    started: float = field(default_factory=time.perf_counter)
    phases: dict[str, float] = field(default_factory=dict)
    _last: float = field(default_factory=time.perf_counter)

    def lap(self, name: str) -> float:
        """Record the time since the previous lap under ``name``."""
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self._last
        self._last = now
        return self.phases[name]

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started

    def summary(self) -> str:
        parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.phases.items())
        return f"{self.total:.0f} s ({parts})"


# ---- embedding ------------------------------------------------------------------------------


class PrecomputedEmbedder(WrappedEmbedder):
    """An :class:`rag.embedding.Embedder` that serves vectors computed up front in one batched pass.

    ``IndexStore.build`` embeds document by document; computing every text in one call first is
    much faster and gives a single progress bar. ``missing`` says what :meth:`embed` does with a
    text that was not precomputed: embed it now (``"embed"``), or return a zero vector
    (``"zeros"``, only for vectors the benchmark provably never reads). An optional cache
    directory (e.g. under /tmp) keeps vectors between runs.
    """

    def __init__(
        self,
        base: SentenceTransformerEmbedder | None = None,
        *,
        missing: Literal["embed", "zeros"] = "embed",
        cache_dir: Path | None = None,
    ) -> None:
        self.base = base or SentenceTransformerEmbedder()
        self.inner = self.base
        self.missing = missing
        self.cache_dir = cache_dir
        self._vectors: dict[str, np.ndarray] = {}
        self.texts_embedded = 0

    def _cache_file(self, texts: Sequence[str]) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(self.weights_hash.encode())
        for text in texts:
            digest.update(b"\x00" + text.encode("utf-8"))
        return self.cache_dir / f"{self.model_name}-{digest.hexdigest()[:24]}.npy"

    def precompute(self, texts: Iterable[str], label: str) -> np.ndarray:
        """Embed the distinct ``texts`` not known yet (with a progress bar); returns the vectors of ``texts``."""
        texts = list(texts)
        todo = sorted({t for t in texts if t not in self._vectors})
        if todo:
            cache = self._cache_file(todo)
            if cache is not None and cache.is_file():
                console.print(f"[dim]{label}: {len(todo)} vectors from cache {cache}[/dim]")
                vectors = np.load(cache)
            else:
                console.print(f"{label}: embedding {len(todo)} texts")
                vectors = self.base.embed(todo, progress=True)
                self.texts_embedded += len(todo)
                if cache is not None:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    np.save(cache, vectors)
            self._vectors.update(zip(todo, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._vectors[t] for t in texts]).astype(np.float32)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        unknown = [t for t in texts if t not in self._vectors]
        if unknown and self.missing == "embed":
            self._vectors.update(zip(unknown, self.base.embed(unknown, progress=progress), strict=True))
            self.texts_embedded += len(unknown)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        zero = np.zeros(self.dimension, dtype=np.float32)
        return np.vstack([self._vectors.get(t, zero) for t in texts]).astype(np.float32)


# ---- metrics --------------------------------------------------------------------------------


def ndcg_at_k(ranking: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k as trec_eval's ``ndcg_cut`` computes it: gain = graded relevance, discount log2(rank + 1),
    ideal DCG from all judged-relevant documents of the query. Documents without a judgement count 0."""
    dcg = sum(relevance.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:k]))
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranking: Sequence[str], relevance: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant (relevance > 0) documents found in the top ``k``."""
    relevant = {doc for doc, g in relevance.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranking[:k])) / len(relevant)


def mrr_at_k(hits: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank of the first hit within the top ``k`` (0 when there is none)."""
    for rank, hit in enumerate(hits[:k], start=1):
        if hit:
            return 1.0 / rank
    return 0.0


def self_check_metrics() -> None:
    """Check the metrics against hand-computed values (raises AssertionError if they drift).

    Ranking d1, d2, d3 with judgements d1 = 0 (unjudged), d2 = 2, d3 = 1, d4 = 1 (not retrieved):
    DCG@3 = 2 / log2(3) + 1 / log2(4) = 1.26186 + 0.5 = 1.76186;
    ideal order 2, 1, 1: IDCG@3 = 2 + 1 / log2(3) + 1 / log2(4) = 2 + 0.63093 + 0.5 = 3.13093;
    nDCG@3 = 0.56273. Recall@3 = 2 / 3. nDCG@1 = 0 (d1 unjudged).
    """
    relevance = {"d2": 2, "d3": 1, "d4": 1}
    ranking = ["d1", "d2", "d3"]
    assert abs(ndcg_at_k(ranking, relevance, 3) - 0.56273) < 1e-4, ndcg_at_k(ranking, relevance, 3)
    assert ndcg_at_k(ranking, relevance, 1) == 0.0
    assert abs(ndcg_at_k(["d2", "d3", "d4"], relevance, 3) - 1.0) < 1e-12
    assert abs(recall_at_k(ranking, relevance, 3) - 2 / 3) < 1e-12
    assert ndcg_at_k(ranking, {}, 3) == 0.0
    assert mrr_at_k([False, False, True]) == 1 / 3
    assert mrr_at_k([False] * 10 + [True]) == 0.0


# ---- reporting ------------------------------------------------------------------------------


@dataclass
class ResultTable:
    """Rows of figures printed as a rich table and rendered as Markdown for the docs."""

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: str) -> None:
        self.rows.append(list(cells))

    def print(self, title: str) -> None:
        table = Table(title=title)
        for column in self.columns:
            table.add_column(column, justify="left" if column == self.columns[0] else "right")
        for row in self.rows:
            table.add_row(*row)
        Console(width=max(160, Console().width)).print(table)

    def markdown(self) -> str:
        def cells(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

        align = ["---"] + ["---:"] * (len(self.columns) - 1)
        return "\n".join([cells(self.columns), cells(align), *(cells(r) for r in self.rows)])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table: the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def utc_date() -> str:
    """The output of ``date -u`` (or the same from Python when ``date`` is unavailable)."""
    try:
        return subprocess.run(["date", "-u"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())


def machine_description() -> str:
    """CPU count, architecture, Python and the library versions that decide the figures."""
    versions = []
    for name in ("torch", "sentence-transformers", "transformers", "faiss-cpu", "bm25s", "numpy"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cores}-core {platform.machine()}, no GPU, Python {platform.python_version()}, "
        f"rag {rag_version}, " + ", ".join(versions)
    )


def update_docs_section(heading: str, body: str, path: Path = DOCS_FILE) -> Path:
    """Replace the ``## heading`` section of ``path`` with ``body`` (append it if absent), keeping other sections."""
    title = f"## {heading}"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n\n"
    lines = text.splitlines()
    section = [title, "", *body.strip("\n").splitlines(), ""]
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == title)
    except StopIteration:
        while lines and not lines[-1].strip():
            lines.pop()
        lines = [*lines, "", *section]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = [*lines[:start], *section, *lines[end:]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    return path
