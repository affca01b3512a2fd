"""Fit the sentence ranker (``rag/models/ranker.json``) and report cross-validated figures.

Training data: SQuAD v1.1 dev questions, each run through the shipped retrieval (``search`` then
every sentence of the retrieved passages) over the whole pool of SQuAD sentences; a candidate is
positive when its span holds a gold answer span. Folds are split **by article**, never by question,
and the figures printed are out-of-fold: each question is scored by a model that saw none of its
article. The shipped model is then fitted on all sampled questions. The project's own development
set and FAQ are never used here, so ``rag eval`` on them stays a held-out measurement.

    python -m benchmarks.fit_ranker --cache-dir /tmp/rag-bench-cache [--write-model] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import (
    PrecomputedEmbedder,
    ResultTable,
    Stopwatch,
    console,
    machine_description,
    require_file,
    run_main,
    track,
    update_docs_section,
    utc_date,
)
from benchmarks.squad_reqa import DEFAULT_DATA, Judge, load_squad, titled
from rag.chunking import ChunkingParams, passages_of, sentences_of
from rag.entities import make_tagger
from rag.ranker import FEATURES, LinearRanker, sentence_features
from rag.retrieval import HybridRetriever, RetrievalParams
from rag.store import IndexStore

MODEL_PATH = Path(__file__).resolve().parents[1] / "rag" / "models" / "ranker.json"
DOCS_HEADING = "Learned sentence ranker (cross-validated by article)"
TOP_K = 16


@dataclass
class QuestionCandidates:
    group: str
    features: np.ndarray
    labels: np.ndarray
    weighted: np.ndarray
    """The hand-set 0.2.0 score of each candidate, for comparison."""


def collect(
    retriever: HybridRetriever, questions: Sequence[tuple[str, str, set[int]]], vectors: np.ndarray
) -> list[QuestionCandidates]:
    """Features and labels of every candidate sentence of every question."""
    params = RetrievalParams()
    out = []
    for index, (group, text, positives) in track(enumerate(questions), len(questions), "candidates"):
        vector = vectors[index]
        passages = retriever.search(text, TOP_K, query_vector=vector)
        found = retriever.sentence_signals(text, passages, query_vector=vector)
        if found is None:
            continue
        signals, _ = found
        x = sentence_features(signals)
        lexical_top = float(signals.lexical.max()) if signals.lexical.size else 0.0
        lexical_norm = signals.lexical / lexical_top if lexical_top > 0 else np.zeros_like(signals.lexical)
        weighted = (
            params.sentence_dense_weight * signals.dense
            + params.sentence_lexical_weight * lexical_norm
            + params.sentence_passage_weight * signals.passage_score
        )
        y = np.asarray([row in positives for row in signals.rows], dtype=np.int64)
        out.append(QuestionCandidates(group, x, y, weighted))
    return out


def fit(items: Sequence[QuestionCandidates], c: float) -> LinearRanker:
    """Logistic regression on standardised features (scikit-learn, L2)."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([q.features for q in items])
    y = np.concatenate([q.labels for q in items])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return LinearRanker(FEATURES, mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def hit_at_1(items: Sequence[QuestionCandidates], scores: Sequence[np.ndarray]) -> float:
    hits = [bool(q.labels[int(np.argmax(s))]) for q, s in zip(items, scores, strict=True) if q.labels.size]
    return float(np.mean(hits)) if hits else 0.0


def mrr(items: Sequence[QuestionCandidates], scores: Sequence[np.ndarray], k: int = 10) -> float:
    total = 0.0
    for q, s in zip(items, scores, strict=True):
        order = np.argsort(-s, kind="stable")[:k]
        ranks = [i for i, row in enumerate(order, start=1) if q.labels[row]]
        total += 1.0 / ranks[0] if ranks else 0.0
    return total / len(items) if items else 0.0


def grouped_folds(items: Sequence[QuestionCandidates], folds: int, seed: int) -> list[list[int]]:
    groups = sorted({q.group for q in items})
    random.Random(seed).shuffle(groups)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    return [[i for i, q in enumerate(items) if fold_of[q.group] == f] for f in range(folds)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_ranker", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SQuAD v1.1 dev JSON (default: %(default)s)")
    parser.add_argument("--sample", type=int, default=4000, help="questions sampled with --seed (0 = all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folds", type=int, default=4, help="folds, split by article")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep embeddings between runs here")
    parser.add_argument(
        "--store-cache", type=Path, default=None, help="keep the built SQuAD index (with its entities) here"
    )
    parser.add_argument("--dump", type=Path, default=None, help="save the candidates' features and labels (.npz)")
    parser.add_argument("--write-model", action="store_true", help=f"write the fitted model to {MODEL_PATH}")
    parser.add_argument("--write-docs", action="store_true", help="update this section of docs/benchmarks.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.folds < 2:
        raise SystemExit("error: --folds must be at least 2")
    data = require_file(args.data, "SQuAD v1.1 dev set (dev-v1.1.json)")
    clock = Stopwatch()
    corpus = load_squad(data)
    questions = corpus.questions
    if args.sample and args.sample < len(questions):
        questions = random.Random(args.seed).sample(questions, args.sample)
    chunking = ChunkingParams()
    embedder = PrecomputedEmbedder(cache_dir=args.cache_dir)
    embedder.base.warm_up()
    plain: list[str] = []
    titled_texts: list[str] = []
    passage_texts: list[str] = []
    for document in corpus.documents:
        sentences = sentences_of(document)
        plain.extend(s.text for s in sentences)
        titled_texts.extend(titled(document.title, s.text) for s in sentences)
        passage_texts.extend(p.text for p in passages_of(document, sentences, 0, chunking))
    embedder.precompute(plain, "sentences alone")
    embedder.precompute(titled_texts, "sentences with their title")
    embedder.precompute(passage_texts, "passages")
    vectors = embedder.precompute([q.text for q in questions], "questions")
    clock.lap("embedding")
    tagger = make_tagger("spacy")
    if args.store_cache is not None and (args.store_cache / "manifest.json").is_file():
        store = IndexStore.load(args.store_cache)
    else:
        store, _ = IndexStore.build(corpus.documents, embedder, chunking, tagger=tagger)
        if args.store_cache is not None:
            store.save(args.store_cache)
    clock.lap("index + entities")
    retriever = HybridRetriever(store, embedder)
    judge = Judge(store, corpus)
    items = collect(retriever, [(q.doc_id, q.text, judge.span_rows(q)) for q in questions], vectors)
    clock.lap("candidates")
    if args.dump is not None:
        np.savez_compressed(
            args.dump,
            features=np.vstack([q.features for q in items]),
            labels=np.concatenate([q.labels for q in items]),
            weighted=np.concatenate([q.weighted for q in items]),
            question=np.concatenate([np.full(len(q.labels), i) for i, q in enumerate(items)]),
            group=np.asarray([q.group for q in items]),
        )
    reachable = sum(bool(q.labels.any()) for q in items)
    console.print(f"{len(items)} questions, {reachable} with an answering sentence among the candidates")

    folds = grouped_folds(items, args.folds, args.seed)
    oof: list[np.ndarray] = [np.zeros(0)] * len(items)
    for fold in folds:
        held = set(fold)
        model = fit([q for i, q in enumerate(items) if i not in held], args.c)
        for i in fold:
            oof[i] = model.probabilities(items[i].features)
    clock.lap("cross-validation")
    weighted_scores = [q.weighted for q in items]
    table = ResultTable(["sentence scoring", "hit@1", "MRR@10"])
    rows = {
        "hand-set weights (0.2.0)": (hit_at_1(items, weighted_scores), mrr(items, weighted_scores)),
        f"learned, out-of-fold ({args.folds} folds by article)": (hit_at_1(items, oof), mrr(items, oof)),
    }
    for label, (h1, m) in rows.items():
        table.add(label, f"{h1:.3f}", f"{m:.3f}")
    table.print(f"SQuAD v1.1 dev, {len(items)} questions, {len(corpus.documents)} articles")

    final = fit(items, args.c)
    final = LinearRanker(
        final.features,
        final.mean,
        final.scale,
        final.coef,
        final.intercept,
        {
            "fitted_on": f"SQuAD v1.1 dev, {len(items)} questions sampled with seed {args.seed}",
            "entity_tagger": tagger.name,
            "top_k": TOP_K,
            "c": args.c,
            "cv_hit_at_1": round(rows[f"learned, out-of-fold ({args.folds} folds by article)"][0], 4),
            "date": utc_date(),
        },
    )
    weights = sorted(zip(FEATURES, final.coef, strict=True), key=lambda kv: -abs(kv[1]))
    console.print("standardised weights: " + ", ".join(f"{name} {value:+.2f}" for name, value in weights))
    print(f"wall-clock: {clock.summary()}")
    if args.write_model:
        MODEL_PATH.write_text(json.dumps(final.to_dict(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH}")
    if args.write_docs:
        command = " ".join(["python -m benchmarks.fit_ranker", *(shlex.quote(a) for a in (argv or sys.argv[1:]))])
        weights_md = "\n".join(f"| {name} | {value:+.3f} |" for name, value in weights)
        body = f"""\
Command: `{command}`

- Date: {utc_date()}
- Machine: {machine_description()}
- Data: {len(items)} SQuAD v1.1 dev questions over all {len(corpus.documents)} articles ({len(store.sentences)}
  sentences), candidates = every sentence of the {TOP_K} retrieved passages; {reachable} questions have an
  answering sentence among them. Folds split by article: every figure below is out-of-fold.

{table.markdown()}

Standardised weights of the shipped model (fitted on all sampled questions):

| feature | weight |
| --- | ---: |
{weights_md}
"""
        print(f"wrote section '{DOCS_HEADING}' of {update_docs_section(DOCS_HEADING, body)}")
    return 0


if __name__ == "__main__":
    run_main(main)
