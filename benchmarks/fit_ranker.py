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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    DataMissingError,
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
from benchmarks.squad_reqa import DEFAULT_DATA, Judge, load_squad, squad_fitted_article, titled
from rag.answerability import QUESTION_FEATURES, question_features
from rag.chunking import ChunkingParams, passages_of, sentences_of
from rag.documents import Document
from rag.entities import make_tagger
from rag.ranker import FEATURES, CandidateSignals, LinearRanker, sentence_features
from rag.retrieval import HybridRetriever, RetrievalParams, ScoredSentence
from rag.store import IndexStore

MODEL_PATH = Path(__file__).resolve().parents[1] / "rag" / "models" / "ranker.json"
ANSWERABILITY_PATH = MODEL_PATH.parent / "answerability.json"
DOCS_HEADING = "Learned sentence ranker and answerability (cross-validated by article and week)"
TOP_K = 16
EXCLUSION_DEPTH = 24
"""Extra passages retrieved so that the unanswerable twin still has TOP_K after its answer is taken out."""
MAX_WRONGLY_ABSTAINED = 0.05


@dataclass
class QuestionCandidates:
    """One question asked of one index: its candidates' features and labels.

    ``answerable`` is False for the same question asked with its answering paragraph or articles
    taken out of the candidates: the answerability model learns from both.
    """

    group: str
    question: str
    features: np.ndarray
    labels: np.ndarray
    weighted: np.ndarray
    """The hand-set 0.2.0 score of each candidate, for comparison."""
    signals: CandidateSignals
    passage_lexical: np.ndarray
    answerable: bool = True
    source: str = "squad"
    retriever: Any = None
    """The retriever of the index the question was asked of (features are read through it)."""


def collect(
    retriever: HybridRetriever,
    questions: Sequence[tuple[str, str, set[int]]],
    vectors: np.ndarray,
    *,
    excluded: Sequence[set[int]] | None = None,
    source: str = "squad",
) -> list[QuestionCandidates]:
    """Features and labels of every candidate sentence of every question.

    With ``excluded`` (per question, sentence rows to leave out: the answering paragraph or articles),
    every question is also collected a second time with passages holding those rows removed, as an
    unanswerable question about a subject the index still covers.
    """
    params = RetrievalParams()
    out = []
    for index, (group, text, positives) in track(enumerate(questions), len(questions), f"{source} candidates"):
        vector = vectors[index]
        found_passages = retriever.search(text, TOP_K + (EXCLUSION_DEPTH if excluded else 0), query_vector=vector)
        contexts = [(True, found_passages[:TOP_K])]
        if excluded is not None:
            removed = excluded[index]
            kept = [p for p in found_passages if not removed.intersection(p.passage.sentence_ids)]
            contexts.append((False, kept[:TOP_K]))
        for answerable, passages in contexts:
            found = retriever.sentence_signals(text, passages, query_vector=vector)
            if found is None:
                continue
            signals, passage_lexical = found
            x = sentence_features(signals)
            lexical_top = float(signals.lexical.max()) if signals.lexical.size else 0.0
            lexical_norm = signals.lexical / lexical_top if lexical_top > 0 else np.zeros_like(signals.lexical)
            weighted = (
                params.sentence_dense_weight * signals.dense
                + params.sentence_lexical_weight * lexical_norm
                + params.sentence_passage_weight * signals.passage_score
            )
            y = np.asarray([answerable and row in positives for row in signals.rows], dtype=np.int64)
            lexical_of = np.asarray([passage_lexical[row] for row in signals.rows], dtype=np.float64)
            out.append(QuestionCandidates(group, text, x, y, weighted, signals, lexical_of, answerable, source))
    return out


def ranked_by(retriever: HybridRetriever, item: QuestionCandidates, probabilities: np.ndarray) -> list[ScoredSentence]:
    """The candidates as the pipeline would rank them with a ranker that gave ``probabilities``."""
    signals = item.signals
    store = retriever.store
    ranked = [
        ScoredSentence(
            row,
            store.sentences[row],
            float(probabilities[i]),
            float(signals.dense[i]),
            float(signals.lexical[i]),
            float(signals.passage_score[i]),
            float(item.passage_lexical[i]),
            float(probabilities[i]),
            bool(signals.type_match[i]),
            float(signals.coverage_with_neighbours[i]),
        )
        for i, row in enumerate(signals.rows)
    ]
    ranked.sort(key=lambda s: (-s.score, s.row))
    return ranked


def answerability_rows(
    retriever: HybridRetriever, items: Sequence[QuestionCandidates], probabilities: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Question features (under the given candidate probabilities) and answerable labels."""
    rows = []
    for item, p in zip(items, probabilities, strict=True):
        ranked = ranked_by(retriever, item, p)
        coverage = retriever.coverage(item.question, ranked)
        rows.append(question_features(item.question, ranked, coverage, item.signals.answer_type))
    labels = np.asarray([item.answerable for item in items], dtype=np.int64)
    return np.vstack(rows), labels


def fit_linear(x: np.ndarray, y: np.ndarray, c: float, features: tuple[str, ...]) -> LinearRanker:
    """Logistic regression on standardised features (scikit-learn, L2)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=4000)
    model.fit((x - mean) / scale, y)
    return LinearRanker(features, mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit(items: Sequence[QuestionCandidates], c: float) -> LinearRanker:
    """The sentence ranker, fitted on the questions asked of an index that holds their answer."""
    answerable = [q for q in items if q.answerable]
    x = np.vstack([q.features for q in answerable])
    y = np.concatenate([q.labels for q in answerable])
    return fit_linear(x, y, c, FEATURES)


def without_features(items: Sequence[QuestionCandidates], names: Sequence[str]) -> list[QuestionCandidates]:
    """Copies of ``items`` with the named ranker features held at zero (a constant the fit cannot use)."""
    columns = [FEATURES.index(name) for name in names]
    out = []
    for item in items:
        features = item.features.copy()
        features[:, columns] = 0.0
        out.append(replace(item, features=features))
    return out


def hit_at_1(items: Sequence[QuestionCandidates], scores: Sequence[np.ndarray]) -> float:
    hits = [bool(q.labels[int(np.argmax(s))]) for q, s in zip(items, scores, strict=True) if q.answerable]
    return float(np.mean(hits)) if hits else 0.0


def mrr(items: Sequence[QuestionCandidates], scores: Sequence[np.ndarray], k: int = 10) -> float:
    total = 0.0
    answerable = 0
    for q, s in zip(items, scores, strict=True):
        if not q.answerable:
            continue
        answerable += 1
        order = np.argsort(-s, kind="stable")[:k]
        ranks = [i for i, row in enumerate(order, start=1) if q.labels[row]]
        total += 1.0 / ranks[0] if ranks else 0.0
    return total / answerable if answerable else 0.0


def grouped_folds(items: Sequence[QuestionCandidates], folds: int, seed: int) -> list[list[int]]:
    groups = sorted({q.group for q in items})
    random.Random(seed).shuffle(groups)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    return [[i for i, q in enumerate(items) if fold_of[q.group] == f] for f in range(folds)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_ranker", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SQuAD v1.1 dev JSON (default: %(default)s)")
    parser.add_argument("--sample", type=int, default=4000, help="SQuAD questions sampled with --seed (0 = all)")
    parser.add_argument("--no-squad", action="store_true", help="fit on the news set only")
    parser.add_argument(
        "--realtimeqa", type=Path, default=None, help="a checkout of realtimeqa/realtimeqa_public (news weeks)"
    )
    parser.add_argument(
        "--weeks", type=int, default=8, help="RealtimeQA weeks fitted on: the smallest ones from 2023 on (0 = all)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folds", type=int, default=4, help="folds, split by article (SQuAD) and by week (news)")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic regressions")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep embeddings between runs here")
    parser.add_argument(
        "--store-cache", type=Path, default=None, help="keep the built indexes (with their entities) under here"
    )
    parser.add_argument(
        "--compare-lambdarank",
        action="store_true",
        help="also cross-validate LightGBM lambdarank (pip install lightgbm)",
    )
    parser.add_argument(
        "--ablate",
        default="",
        help="comma-separated ranker features: also cross-validate without each (and without all of them)",
    )
    parser.add_argument("--write-model", action="store_true", help=f"write the fitted models to {MODEL_PATH.parent}")
    parser.add_argument("--write-docs", action="store_true", help="update this section of docs/benchmarks.md")
    return parser


def embed_corpus(embedder: PrecomputedEmbedder, documents: Sequence[Document], chunking: ChunkingParams) -> None:
    """Every text an index build embeds, in three batched passes (cached under --cache-dir)."""
    plain: list[str] = []
    titled_texts: list[str] = []
    passage_texts: list[str] = []
    for document in documents:
        sentences = sentences_of(document)
        plain.extend(s.text for s in sentences)
        titled_texts.extend(titled(document.title, s.text) for s in sentences)
        passage_texts.extend(p.text for p in passages_of(document, sentences, 0, chunking))
    embedder.precompute(plain, "sentences alone")
    embedder.precompute(titled_texts, "sentences with their title")
    embedder.precompute(passage_texts, "passages")


def open_store(
    documents: Sequence[Document], embedder: PrecomputedEmbedder, chunking: ChunkingParams, cache: Path | None
) -> IndexStore:
    tagger = make_tagger("spacy")
    if cache is not None and (cache / "manifest.json").is_file():
        store = IndexStore.load(cache)
        if store.compatible_with(embedder, chunking, tagger.name):
            return store
    store, _ = IndexStore.build(documents, embedder, chunking, tagger=tagger)
    if cache is not None:
        store.save(cache)
    return store


def collect_squad(args: argparse.Namespace, embedder: PrecomputedEmbedder) -> list[QuestionCandidates]:
    """SQuAD questions over all its articles; the unanswerable twin leaves out the answer's paragraph."""
    corpus = load_squad(require_file(args.data, "SQuAD v1.1 dev set (dev-v1.1.json)"))
    # Only the even-numbered articles are fitted on: benchmarks/squad_reqa.py scores the odd ones.
    questions = [q for q in corpus.questions if squad_fitted_article(q.doc_id)]
    if args.sample and args.sample < len(questions):
        questions = random.Random(args.seed).sample(questions, args.sample)
    chunking = ChunkingParams()
    embed_corpus(embedder, corpus.documents, chunking)
    vectors = embedder.precompute([q.text for q in questions], "SQuAD questions")
    store = open_store(corpus.documents, embedder, chunking, args.store_cache and args.store_cache / "squad")
    retriever = HybridRetriever(store, embedder)
    judge = Judge(store, corpus)
    paragraph_rows: dict[int, set[int]] = {}
    for row, paragraph in enumerate(judge.paragraph):
        paragraph_rows.setdefault(paragraph, set()).add(row)
    items = collect(
        retriever,
        [(q.doc_id, q.text, judge.span_rows(q)) for q in questions],
        vectors,
        excluded=[paragraph_rows.get(q.paragraph, set()) for q in questions],
        source="squad",
    )
    for item in items:
        item.retriever = retriever
    return items


def collect_realtimeqa(args: argparse.Namespace, embedder: PrecomputedEmbedder) -> list[QuestionCandidates]:
    """News-quiz questions, one index per week; the unanswerable twin leaves out every article with the answer."""
    from benchmarks import realtimeqa
    from rag.ingest import _document_from_text

    root: Path = args.realtimeqa
    if not (root / "past").is_dir():
        raise DataMissingError(f"{root} is not a checkout of realtimeqa/realtimeqa_public (no past/ folder)")
    available = realtimeqa.weeks_available(root, realtimeqa.YEARS)
    # The benchmark's own weeks are never fitted on, so benchmarks/realtimeqa.py stays a held-out measurement.
    held_out = set(realtimeqa.DEFAULT_WEEKS) | set(realtimeqa.default_weeks(available))
    weeks = [w for w in available if w not in held_out]
    if args.weeks and args.weeks < len(weeks):
        # The weeks with the fewest characters: a week's whole pool is embedded, so small weeks are cheap.
        size = {w: sum(len(a.text) for a in realtimeqa.read_pool(root, w)[0]) for w in weeks}
        weeks = sorted(sorted(weeks, key=lambda w: (size[w], w))[: args.weeks])
    console.print(f"RealtimeQA weeks fitted on: {', '.join(weeks)} (held out for the benchmark: {sorted(held_out)})")
    chunking = ChunkingParams()
    items: list[QuestionCandidates] = []
    for week_id in weeks:
        week = realtimeqa.load_week(root, week_id)
        answerable = [q for q in week.questions if q.gold_doc_ids]
        if not answerable:
            continue
        documents = [
            _document_from_text(a.doc_id, a.text, title=a.title or None, url=a.url or None) for a in week.articles
        ]
        embed_corpus(embedder, documents, chunking)
        vectors = embedder.precompute([q.text for q in answerable], f"{week_id} questions")
        store = open_store(documents, embedder, chunking, args.store_cache and args.store_cache / f"rtqa-{week_id}")
        retriever = HybridRetriever(store, embedder)
        rows_of: dict[str, set[int]] = {}
        for row, sentence in enumerate(store.sentences):
            rows_of.setdefault(sentence.doc_id, set()).add(row)
        questions = []
        excluded = []
        for q in answerable:
            gold_rows = {
                row
                for doc_id in q.gold_doc_ids
                for row in rows_of.get(doc_id, ())
                if realtimeqa.contains_answer(store.sentences[row].text, q.gold)
            }
            questions.append((week_id, q.text, gold_rows))
            excluded.append({row for doc_id in q.gold_doc_ids for row in rows_of.get(doc_id, ())})
        week_items = collect(retriever, questions, vectors, excluded=excluded, source="realtimeqa")
        for item in week_items:
            item.retriever = retriever
        items.extend(week_items)
    return items


def cross_validate(
    items: Sequence[QuestionCandidates], folds: list[list[int]], c: float
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold candidate probabilities, question features, answerable labels and answerability probabilities."""
    oof: list[np.ndarray] = [np.zeros(0)] * len(items)
    for fold in folds:
        held = set(fold)
        model = fit([q for i, q in enumerate(items) if i not in held], c)
        for i in fold:
            oof[i] = model.probabilities(items[i].features)
    qx = np.zeros((len(items), len(QUESTION_FEATURES)))
    qy = np.zeros(len(items), dtype=np.int64)
    for source in {q.source for q in items}:
        chosen = [i for i, q in enumerate(items) if q.source == source]
        x, y = answerability_rows_of([items[i] for i in chosen], [oof[i] for i in chosen])
        qx[chosen] = x
        qy[chosen] = y
    qp = np.zeros(len(items))
    for fold in folds:
        held = set(fold)
        train = [i for i in range(len(items)) if i not in held]
        model = fit_linear(qx[train], qy[train], c, QUESTION_FEATURES)
        qp[fold] = model.probabilities(qx[fold])
    return oof, qx, qy, qp


def answerability_rows_of(
    items: Sequence[QuestionCandidates], probabilities: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    rows = []
    labels = []
    for item, p in zip(items, probabilities, strict=True):
        x, y = answerability_rows(item.retriever, [item], [p])
        rows.append(x)
        labels.append(y)
    return np.vstack(rows), np.concatenate(labels)


def lambdarank_oof(items: Sequence[QuestionCandidates], folds: list[list[int]], seed: int) -> list[np.ndarray]:
    """Out-of-fold scores of LightGBM's lambdarank on the same features and folds (for comparison only)."""
    import lightgbm

    scores: list[np.ndarray] = [np.zeros(len(q.labels)) for q in items]
    for fold in folds:
        held = set(fold)
        train = [q for i, q in enumerate(items) if i not in held and q.answerable and q.labels.any()]
        model = lightgbm.LGBMRanker(
            objective="lambdarank",
            n_estimators=300,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=seed,
            verbose=-1,
        )
        model.fit(
            np.vstack([q.features for q in train]),
            np.concatenate([q.labels for q in train]),
            group=[len(q.labels) for q in train],
        )
        for i in fold:
            scores[i] = model.predict(items[i].features)
    return scores


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic)."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def choose_thresholds(
    labels: np.ndarray, probabilities: np.ndarray, max_wrongly_abstained: float
) -> tuple[float, float]:
    """The answer threshold (best balanced accuracy) and the partial-answer threshold (the highest that
    abstains on at most ``max_wrongly_abstained`` of the answerable questions), on a 0.01 grid."""
    grid = np.round(np.arange(0.0, 1.0001, 0.01), 2)
    positives = probabilities[labels == 1]
    negatives = probabilities[labels == 0]

    def balanced(t: float) -> float:
        return float(((positives >= t).mean() + (negatives < t).mean()) / 2)

    answer = float(max(grid, key=lambda t: (balanced(t), -t)))
    partial = float(max((t for t in grid if (positives < t).mean() <= max_wrongly_abstained), default=0.0))
    return answer, min(partial, answer)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.folds < 2:
        raise SystemExit("error: --folds must be at least 2")
    if args.no_squad and args.realtimeqa is None:
        raise SystemExit("error: --no-squad needs --realtimeqa PATH")
    ablated = [name.strip() for name in args.ablate.split(",") if name.strip()]
    unknown = [name for name in ablated if name not in FEATURES]
    if unknown:
        raise SystemExit(f"error: --ablate: unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    clock = Stopwatch()
    embedder = PrecomputedEmbedder(cache_dir=args.cache_dir)
    embedder.base.warm_up()
    items: list[QuestionCandidates] = []
    if not args.no_squad:
        items.extend(collect_squad(args, embedder))
        clock.lap("SQuAD candidates")
    if args.realtimeqa is not None:
        items.extend(collect_realtimeqa(args, embedder))
        clock.lap("RealtimeQA candidates")
    sources = sorted({q.source for q in items})
    for source in sources:
        mine = [q for q in items if q.source == source and q.answerable]
        reachable = sum(bool(q.labels.any()) for q in mine)
        console.print(f"{source}: {len(mine)} questions, {reachable} with an answering sentence among the candidates")

    folds = grouped_folds(items, args.folds, args.seed)
    oof, qx, qy, qp = cross_validate(items, folds, args.c)
    clock.lap("cross-validation")

    table = ResultTable(["source", "sentence scoring", "hit@1", "MRR@10"])
    cv_hit: dict[str, float] = {}
    for source in sources:
        chosen = [i for i, q in enumerate(items) if q.source == source]
        mine = [items[i] for i in chosen]
        learned = hit_at_1(mine, [oof[i] for i in chosen])
        cv_hit[source] = learned
        table.add(
            source,
            "hand-set weights (0.2.0)",
            f"{hit_at_1(mine, [q.weighted for q in mine]):.3f}",
            f"{mrr(mine, [q.weighted for q in mine]):.3f}",
        )
        table.add(
            source,
            f"learned, out-of-fold ({args.folds} folds)",
            f"{learned:.3f}",
            f"{mrr(mine, [oof[i] for i in chosen]):.3f}",
        )
    if args.compare_lambdarank:
        ranked_oof = lambdarank_oof(items, folds, args.seed)
        for source in sources:
            chosen = [i for i, q in enumerate(items) if q.source == source]
            mine = [items[i] for i in chosen]
            table.add(
                source,
                "LightGBM lambdarank, out-of-fold",
                f"{hit_at_1(mine, [ranked_oof[i] for i in chosen]):.3f}",
                f"{mrr(mine, [ranked_oof[i] for i in chosen]):.3f}",
            )
    console.print(f"answerability AUC, all features: {auc(qy, qp):.3f}")
    ablations = [[name] for name in ablated] + ([ablated] if len(ablated) > 1 else [])
    for names in ablations:
        ablated_items = without_features(items, names)
        ablated_oof, _, ablated_qy, ablated_qp = cross_validate(ablated_items, folds, args.c)
        for source in sources:
            chosen = [i for i, q in enumerate(items) if q.source == source]
            mine = [ablated_items[i] for i in chosen]
            table.add(
                source,
                f"learned without {' + '.join(names)}, out-of-fold",
                f"{hit_at_1(mine, [ablated_oof[i] for i in chosen]):.3f}",
                f"{mrr(mine, [ablated_oof[i] for i in chosen]):.3f}",
            )
        console.print(f"answerability AUC without {' + '.join(names)}: {auc(ablated_qy, ablated_qp):.3f}")
    if ablations:
        clock.lap("ablations")
    table.print("Sentence ranking (answerable questions)")

    answer_t, partial_t = choose_thresholds(qy, qp, MAX_WRONGLY_ABSTAINED)
    abstain = ResultTable(
        ["source", "AUC", "answerable abstained", "unanswerable abstained", "unanswerable answered fully"]
    )
    for source in sources:
        chosen = np.asarray([i for i, q in enumerate(items) if q.source == source])
        y, p = qy[chosen], qp[chosen]
        abstain.add(
            source,
            f"{auc(y, p):.3f}",
            f"{float((p[y == 1] < partial_t).mean()):.3f}",
            f"{float((p[y == 0] < partial_t).mean()):.3f}",
            f"{float((p[y == 0] >= answer_t).mean()):.3f}",
        )
    abstain.print(f"Answerability, out-of-fold (answer >= {answer_t:.2f}, partial >= {partial_t:.2f})")
    calibration = ResultTable(["confidence", "questions", "share answerable"])
    edges = np.linspace(0, 1, 11)
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (qp >= low) & ((qp < high) if high < 1 else (qp <= high))
        if inside.any():
            calibration.add(f"{low:.1f}-{high:.1f}", str(int(inside.sum())), f"{float(qy[inside].mean()):.3f}")
    calibration.print("Calibration of the out-of-fold answerability probability")

    date = utc_date()
    fitted_on = ", ".join(
        f"{source} ({sum(1 for q in items if q.source == source and q.answerable)} questions)" for source in sources
    )
    final = fit(items, args.c)
    final = LinearRanker(
        final.features,
        final.mean,
        final.scale,
        final.coef,
        final.intercept,
        {
            "fitted_on": fitted_on,
            "squad_articles": "even",
            "entity_tagger": make_tagger("spacy").name,
            "top_k": TOP_K,
            "c": args.c,
            "cv_hit_at_1": {k: round(v, 4) for k, v in cv_hit.items()},
            "seed": args.seed,
            "date": date,
        },
    )
    final_q = fit_linear(qx, qy, args.c, QUESTION_FEATURES)
    final_q = LinearRanker(
        final_q.features,
        final_q.mean,
        final_q.scale,
        final_q.coef,
        final_q.intercept,
        {
            "fitted_on": fitted_on + ", each also with its answer taken out",
            "c": args.c,
            "answer_threshold": answer_t,
            "partial_threshold": partial_t,
            "cv_auc": round(auc(qy, qp), 4),
            "date": date,
        },
    )
    weights = sorted(zip(FEATURES, final.coef, strict=True), key=lambda kv: -abs(kv[1]))
    q_weights = sorted(zip(QUESTION_FEATURES, final_q.coef, strict=True), key=lambda kv: -abs(kv[1]))
    console.print("ranker weights: " + ", ".join(f"{name} {value:+.2f}" for name, value in weights))
    console.print("answerability weights: " + ", ".join(f"{name} {value:+.2f}" for name, value in q_weights))
    print(f"wall-clock: {clock.summary()}")
    if args.write_model:
        MODEL_PATH.write_text(json.dumps(final.to_dict(), indent=2) + "\n", encoding="utf-8")
        ANSWERABILITY_PATH.write_text(json.dumps(final_q.to_dict(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH} and {ANSWERABILITY_PATH}")
    if args.write_docs:
        command = " ".join(["python -m benchmarks.fit_ranker", *(shlex.quote(a) for a in (argv or sys.argv[1:]))])
        weights_md = "\n".join(f"| {name} | {value:+.3f} |" for name, value in weights)
        q_weights_md = "\n".join(f"| {name} | {value:+.3f} |" for name, value in q_weights)
        body = f"""\
Command: `{command}`

- Date: {date}
- Machine: {machine_description()}
- Data: {fitted_on}; candidates = every sentence of the {TOP_K} retrieved passages. Each question is
  also asked with its answer taken out (SQuAD: its paragraph; news: every article holding the answer),
  as an unanswerable question about a subject the index still covers. Folds split by article (SQuAD)
  and by week (news): every figure below is out-of-fold.

{table.markdown()}

{abstain.markdown()}

{calibration.markdown()}

Standardised weights of the shipped sentence ranker (fitted on all questions):

| feature | weight |
| --- | ---: |
{weights_md}

Standardised weights of the shipped answerability model:

| feature | weight |
| --- | ---: |
{q_weights_md}
"""
        print(f"wrote section '{DOCS_HEADING}' of {update_docs_section(DOCS_HEADING, body)}")
    return 0


if __name__ == "__main__":
    run_main(main)
