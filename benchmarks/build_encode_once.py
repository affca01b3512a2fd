"""Index build: the shipped build (every sentence encoded alone and as "title: sentence", every passage
encoded) against builds that encode each text once, with their dev-set and FAQ metrics.

    python -m benchmarks.build_encode_once [--write-docs]

The encode-once candidates encode each sentence alone plus the title once per document; a sentence's
vector is ``normalise((1 - w) * sentence + w * title)`` and a passage's the normalised mean of its
sentences' own vectors. A middle candidate keeps the shipped two encodes per sentence and takes only the
passages from their sentences, to tell the two changes' effects apart. They are swapped in for
``rag.store.embed_sentences`` and the passage encode by patching this process only
(:func:`candidate_build`): the library keeps the shipped build, because no candidate was at least as good
on every metric (the rule for keeping it). Also timed: the bare model encoding the corpus's sentences
once, the floor of a build.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

import rag.store as store_module
from benchmarks.common import machine_description, markdown_table, run_main, update_docs_section, utc_date
from rag.chunking import ChunkingParams, sentences_of
from rag.config import Settings
from rag.documents import Passage
from rag.embedding import Embedder
from rag.evaluation.evaluate import evaluate
from rag.evaluation.gold import load_gold
from rag.ingest import load_documents
from rag.pipeline import build_pipeline, make_embedder

REPO = Path(__file__).resolve().parents[1]
METRICS = {
    "dev": [
        "retrieval.recall@1",
        "retrieval.recall@5",
        "retrieval.mrr@10",
        "answer.first_contains_gold",
        "answer.composed_contains_gold",
        "answer.token_f1",
        "answer.sas",
        "citations.precision",
        "short_answer.em",
        "abstention.unanswerable_abstained",
        "abstention.answerable_wrongly_abstained",
    ],
    "faq": ["answer.token_f1", "answer.rouge_l", "answer.sas", "support.partial"],
}
LOWER_IS_BETTER = {"abstention.answerable_wrongly_abstained"}
SENTENCES_TWICE: Final = "sentences twice"
"""The candidate that keeps the shipped sentence encodes and takes only the passages from their sentences
(a name, not a weight, so that no ``--weights`` value can be taken for it)."""
Candidate = float | Literal["sentences twice"] | None
"""None: the shipped build; :data:`SENTENCES_TWICE`; or an encode-once title weight."""


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _encode_once(weight: float) -> Callable[..., np.ndarray]:
    """An ``embed_sentences`` stand-in that also leaves the sentences' own vectors for the passages."""

    def embed(embedder: Embedder, title: str, sentences: Sequence[str], params: ChunkingParams) -> np.ndarray:
        encoded = embedder.embed([*sentences, title] if title else list(sentences))
        alone = encoded[: len(sentences)]
        _LAST["alone"] = alone
        return _unit((1 - weight) * alone + weight * encoded[len(sentences)]) if title else alone

    return embed


def _shipped_keeping_alone(original: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """The shipped ``embed_sentences`` (both encodes), leaving the sentences' own vectors for the passages."""

    def embed(embedder: Embedder, title: str, sentences: Sequence[str], params: ChunkingParams) -> np.ndarray:
        alone = embedder.embed(list(sentences))
        _LAST["alone"] = alone
        return original(_Reusing(embedder, list(sentences), alone), title, sentences, params)

    return embed


class _Reusing:
    """An embedder that answers one known list of texts from vectors already computed."""

    def __init__(self, inner: Embedder, texts: list[str], vectors: np.ndarray) -> None:
        self.inner, self.texts, self.vectors = inner, texts, vectors

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self.vectors if list(texts) == self.texts else self.inner.embed(texts, progress=progress)


_LAST: dict[str, np.ndarray] = {}


class _PassagesFromSentences:
    """Wraps the embedder so the passage call returns the mean of the passage's sentence vectors."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.passages: list[Passage] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if self.passages and [p.text for p in self.passages] == list(texts):
            alone = _LAST["alone"]
            first = min(i for p in self.passages for i in p.sentence_ids)
            rows = [alone[[i - first for i in p.sentence_ids]].mean(axis=0, keepdims=True) for p in self.passages]
            self.passages = []
            return _unit(np.vstack(rows))
        return self.inner.embed(texts, progress=progress)


@contextmanager
def candidate_build(embedder: Embedder, weight: Candidate) -> Iterator[Any]:
    """Within the block, ``rag.store`` builds the candidate ``weight`` names (see :data:`Candidate`) with the
    embedder this yields; restored on exit."""
    if weight is None:
        yield embedder
        return
    original_embed_sentences = store_module.embed_sentences  # type: ignore[attr-defined]
    original_passages_of = store_module.passages_of
    wrapped = _PassagesFromSentences(embedder)

    def passages_and_remember(*args: Any, **kwargs: Any) -> list[Passage]:
        wrapped.passages = original_passages_of(*args, **kwargs)
        return wrapped.passages

    if isinstance(weight, str):
        store_module.embed_sentences = _shipped_keeping_alone(original_embed_sentences)  # type: ignore[attr-defined]
    else:
        store_module.embed_sentences = _encode_once(weight)  # type: ignore[attr-defined]
    store_module.passages_of = passages_and_remember  # type: ignore[assignment]
    try:
        yield wrapped
    finally:
        store_module.embed_sentences = original_embed_sentences  # type: ignore[attr-defined]
        store_module.passages_of = original_passages_of


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="*", default=[0.2, 0.3], help="title weights to try")
    parser.add_argument("--repeats", type=int, default=3, help="timed builds per variant")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    dev = load_gold(REPO / "tests/data/dev_gold.jsonl")
    faq = load_gold(REPO / "seeds/004_286debfea32733cf.txt")
    articles, _ = load_documents([REPO / "seeds"])
    params = ChunkingParams()
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(seeds_dir=REPO / "seeds", index_dir=Path(tmp) / "warm" / "default", _env_file=None)  # type: ignore[call-arg]
        embedder = make_embedder(base)
        embedder.embed(["warm-up"])
        sentence_texts = [s.text for d in articles for s in sentences_of(d)]
        bare: list[float] = []

        def time_bare() -> None:  # before every timed build, so a slow spell of the machine hits both
            started = time.perf_counter()
            embedder.embed(sentence_texts)
            bare.append(time.perf_counter() - started)

        variants: dict[str, Candidate] = {
            "shipped (2 encodes per sentence + passages)": None,
            "2 encodes per sentence, passages from them": SENTENCES_TWICE,
        }
        variants.update({f"encode once, title weight {w}": w for w in args.weights})
        results: dict[str, tuple[float, dict[str, dict[str, float]]]] = {}
        for name, weight in variants.items():
            with candidate_build(embedder, weight) as wrapped:
                times = []
                for _ in range(args.repeats):
                    time_bare()
                    started = time.perf_counter()
                    store_module.IndexStore.build(articles, wrapped, params)
                    times.append(time.perf_counter() - started)
                settings = Settings(seeds_dir=REPO / "seeds", index_dir=Path(tmp) / name / "default", _env_file=None)  # type: ignore[call-arg]
                pipeline = build_pipeline(settings, embedder=wrapped, rebuild=True)
                metrics = {"dev": evaluate(pipeline, dev).metrics, "faq": evaluate(pipeline, faq).metrics}
            results[name] = (statistics.median(times), metrics)  # type: ignore[assignment]
    bare_s = statistics.median(bare)
    names = list(variants)
    header = ["", *names]
    rows = [
        ["index build, median (s)", *(f"{results[n][0]:.2f}" for n in names)],
        ["build ÷ bare encode of the sentences (goal ≤ 1.25×)", *(f"{results[n][0] / bare_s:.2f}×" for n in names)],
    ]
    shipped = results[names[0]][1]
    verdicts = {n: True for n in names[1:]}
    gained: dict[str, None] = {}
    lost: dict[str, None] = {}
    for gold, keys in METRICS.items():
        for key in keys:
            cells = []
            for n in names:
                value = results[n][1][gold].get(key)
                cells.append("-" if value is None else f"{value:.4f}")
                if n != names[0] and value is not None and shipped[gold].get(key) is not None:
                    ref = shipped[gold][key]
                    worse = value > ref if key in LOWER_IS_BETTER else value < ref
                    better = value < ref if key in LOWER_IS_BETTER else value > ref
                    verdicts[n] = verdicts[n] and not worse
                    if worse:
                        lost[f"{gold} {key}"] = None
                    elif better:
                        gained[f"{gold} {key}"] = None
            rows.append([f"{gold} {key}", *cells])
    rows.append(["no metric worse than shipped", "", *("yes" if verdicts[n] else "no" for n in names[1:])])
    print(f"bare model, the corpus's {len(sentence_texts)} sentences encoded once: {bare_s:.2f} s")
    width = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width[i]) for i, cell in enumerate(row)))
    if args.write_docs:
        table = markdown_table(header, rows)
        body = (
            f"Command: `python -m benchmarks.build_encode_once --write-docs`  \n"
            f"Date: {utc_date()}  \nMachine: {machine_description()}\n\n"
            f"Bare model, the corpus's {len(sentence_texts)} sentences encoded once: {bare_s:.2f} s "
            f"(median of {args.repeats * len(names)}, one before each timed build); "
            f"builds are medians of {args.repeats} (entity tagging included).\n\n"
            f"{table}\n\n"
            f"{verdict(verdicts, gained, lost)}"
        )
        update_docs_section("Index build: encoding each text once", body)
    return 0


def verdict(verdicts: dict[str, bool], gained: dict[str, None], lost: dict[str, None]) -> str:
    """The sentence under the table: which build the rule keeps, and what the candidates gain and lose."""
    kept = [name for name, ok in verdicts.items() if ok]
    if kept:
        return f"No metric is worse than shipped for: {', '.join(kept)}."
    return (
        "The shipped build is kept: no candidate is at least as good on every metric "
        f"(one or more gain {', '.join(gained) or 'nothing'}; one or more lose {', '.join(lost)})."
    )


if __name__ == "__main__":
    run_main(main)
