"""Run gold questions through the pipeline and compute named metrics.

Each question is answered once with abstention switched off, so the composed answer and its
confidence are both known; the configured threshold then decides what a user would have seen.
That also lets :func:`sweep_thresholds` replay every threshold without asking again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from statistics import fmean
from typing import Any

import numpy as np

from rag.answer import ABSTAIN_MESSAGE, Answer, AnswerComposer, ComposerParams, Support, lacks_typed_answer
from rag.answer_types import FACTOID, AnswerType
from rag.evaluation.gold import GoldItem
from rag.evaluation.metrics import contains_gold, ndcg_at_k, normalize_answer, percentile, rouge_l, token_f1
from rag.pipeline import QAPipeline
from rag.retrieval import QuestionCoverage

__all__ = [
    "KS",
    "METRIC_NAMES",
    "EvaluationReport",
    "QuestionResult",
    "best_threshold",
    "calibration",
    "evaluate",
    "sweep_thresholds",
]

KS = (1, 3, 5, 10)
# Every report's metrics, in order (a metric a gold set cannot measure is None, never missing), so that
# `rag eval --fail-under` can refuse an unknown name before the run.
METRIC_NAMES = (
    *(f"retrieval.recall@{k}" for k in KS),
    "retrieval.mrr@10",
    "retrieval.ndcg@10",
    "answer.first_contains_gold",
    "answer.any_contains_gold",
    "answer.composed_contains_gold",
    "answer.token_f1",
    "answer.rouge_l",
    "answer.sas",
    "citations.precision",
    "citations.verifiability",
    "short_answer.em",
    "short_answer.f1",
    "short_answer.given",
    "support.partial",
    "abstention.unanswerable_abstained",
    "abstention.answerable_wrongly_abstained",
    "latency.p50_ms",
    "latency.p95_ms",
    "questions.answerable",
    "questions.unanswerable",
)


@dataclass
class QuestionResult:
    """What happened to one gold question."""

    id: str
    question: str
    answerable: bool
    confidence: float
    abstained: bool
    composed_answer: str
    """The answer composed with abstention off (what a user sees unless ``abstained``)."""
    served_answer: str
    first_contains_gold: bool | None = None
    any_contains_gold: bool | None = None
    composed_contains_gold: bool | None = None
    """Whether the composed answer holds a gold string, whatever the threshold."""
    token_f1: float | None = None
    rouge_l: float | None = None
    sas: float | None = None
    retrieval_rank: int | None = None
    """Rank (1-based) of the first relevant passage in the top 10; None if not found or not judged."""
    ndcg_at_10: float | None = None
    citation_precision: float | None = None
    citations_verified: int = 0
    citations_total: int = 0
    cited_doc_ids: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    support: Support = "none"
    answer_type: str = "description"
    short_answer: str | None = None
    short_answer_em: bool | None = None
    short_answer_f1: float | None = None
    term_coverage: float = 1.0
    named_coverage: float = 1.0
    candidate_named: float = 1.0
    uncounted: str | None = None
    """The noun a "how many" question counts that the articles mention but never count."""
    untyped: bool = False
    """A factoid question whose composed first span holds no entity of the asked type."""


@dataclass
class EvaluationReport:
    metrics: dict[str, float | None]
    questions: list[QuestionResult]
    sweep: list[dict[str, float]]
    config: dict[str, Any]
    calibration: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "metrics": self.metrics,
            "threshold_sweep": self.sweep,
            "calibration": self.calibration,
            "questions": [asdict(q) for q in self.questions],
        }


def _mean(values: Sequence[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(fmean(present), 4) if present else None


def _plain(answer: Answer) -> str:
    return " ".join(s.text for s in answer.sentences)


def _relevant(pipeline: QAPipeline, item: GoldItem, passage_text: str, doc_id: str) -> bool:
    """A passage is relevant when it comes from a supporting document and holds a gold answer."""
    if doc_id not in item.doc_ids:
        return False
    return contains_gold(passage_text, item.answers) if item.answers else True


def _retrieval(pipeline: QAPipeline, item: GoldItem, retrieval: dict[str, Any]) -> tuple[int | None, float]:
    hits = pipeline.retriever.search(item.question, max(KS), **retrieval)
    flags = [_relevant(pipeline, item, h.passage.text, h.passage.doc_id) for h in hits]
    rank = next((i for i, flag in enumerate(flags, start=1) if flag), None)
    ideal = [1.0 for p in pipeline.store.passages if _relevant(pipeline, item, p.text, p.doc_id)]
    return rank, ndcg_at_k([float(f) for f in flags], ideal, 10)


def evaluate(
    pipeline: QAPipeline,
    items: Sequence[GoldItem],
    *,
    retrieval: dict[str, Any] | None = None,
    composer: dict[str, Any] | None = None,
    threshold: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Answer every gold question and score the answers, citations, retrieval and abstention."""
    retrieval = dict(retrieval or {})
    composer = dict(composer or {})
    # The thresholds of the confidence in use: the cross-encoder's when there is one.
    requested = replace(pipeline.composer.params, **composer)
    base = pipeline.composer.thresholds_for(requested, pipeline.reranker is not None and requested.rerank_confidence)
    threshold = base.abstain_threshold if threshold is None else threshold
    served_params = replace(base, abstain_threshold=threshold)
    # Composed with every abstention rule off, so the answer is known whatever the cut-offs.
    unguarded = {
        "abstain_threshold": 0.0,
        "partial_threshold": 0.0,
        "rerank_answer_threshold": 0.0,
        "rerank_partial_threshold": 0.0,
        "min_named_coverage": 0.0,
        "min_candidate_named": 0.0,
        "require_answer_type": False,
        "abstain_uncounted": False,
    }
    documents = pipeline.store.documents
    results: list[QuestionResult] = []
    references: list[tuple[int, str, str]] = []
    pipeline.warm_up()  # latency is per question, not the model's first load
    for done, item in enumerate(items, start=1):
        started = time.perf_counter()
        answer = pipeline.ask(item.question, retrieval=retrieval, composer={**composer, **unguarded})
        latency = (time.perf_counter() - started) * 1000
        coverage = replace(
            pipeline.retriever.coverage(item.question), candidate_named=answer.debug.get("candidate_named", 1.0)
        )
        support = (
            pipeline.composer.support(answer.confidence, coverage, served_params, AnswerType(answer.answer_type))
            if answer.sentences
            else "none"
        )
        untyped = lacks_typed_answer(answer)
        if served_params.require_answer_type and untyped:
            support = "none"
        abstained = support == "none"
        composed = _plain(answer)
        served = "" if abstained else composed
        result = QuestionResult(
            id=item.id,
            question=item.question,
            answerable=item.answerable,
            confidence=answer.confidence,
            abstained=abstained,
            composed_answer=composed,
            served_answer=served or ABSTAIN_MESSAGE,
            latency_ms=round(latency, 2),
            cited_doc_ids=sorted({c.doc_id for c in answer.citations}),
            support=support,
            answer_type=answer.answer_type,
            short_answer=None if abstained or answer.short_answer is None else answer.short_answer.text,
            term_coverage=round(coverage.terms, 4),
            named_coverage=round(coverage.named, 4),
            candidate_named=round(coverage.candidate_named, 4),
            uncounted=coverage.uncounted,
            untyped=untyped,
        )
        result.citations_total = len(answer.citations)
        result.citations_verified = sum(documents[c.doc_id].text[c.start : c.end] == c.text for c in answer.citations)
        if item.answerable and item.answers:
            first = answer.sentences[0].text if answer.sentences and not abstained else ""
            result.first_contains_gold = contains_gold(first, item.answers)
            result.any_contains_gold = contains_gold(served, item.answers)
            result.composed_contains_gold = contains_gold(composed, item.answers)
            if AnswerType(answer.answer_type) in FACTOID:
                short = result.short_answer or ""
                result.short_answer_em = any(normalize_answer(short) == normalize_answer(a) for a in item.answers)
                result.short_answer_f1 = round(max(token_f1(short, a) for a in item.answers), 4)
        if item.answerable and item.reference_answer:
            result.token_f1 = round(token_f1(served, item.reference_answer), 4)
            result.rouge_l = round(rouge_l(served, item.reference_answer), 4)
            references.append((len(results), served, item.reference_answer))
        if item.answerable and item.doc_ids:
            result.retrieval_rank, ndcg = _retrieval(pipeline, item, retrieval)
            result.ndcg_at_10 = round(ndcg, 4)
            if answer.citations and not abstained:
                supported = sum(c.doc_id in item.doc_ids for c in answer.citations)
                result.citation_precision = round(supported / len(answer.citations), 4)
        results.append(result)
        if progress is not None:
            progress(done, len(items))
    _semantic_similarity(pipeline, results, references)
    metrics = _aggregate(results)
    sweep = sweep_thresholds(results, served_params)
    config = {
        "questions": len(items),
        "abstain_threshold": threshold,
        "model": pipeline.embedder.model_name,
        "retrieval": {**asdict(pipeline.retriever.params), **retrieval},
        "composer": asdict(served_params),
        "top_k": pipeline.top_k,
        "index": {k: pipeline.store.manifest.get(k) for k in ("corpus_fingerprint", "built_at", "chunking")},
    }
    return EvaluationReport(metrics, results, sweep, config, calibration(results))


def _semantic_similarity(
    pipeline: QAPipeline, results: list[QuestionResult], references: list[tuple[int, str, str]]
) -> None:
    """Cosine of served answer and reference answer with the embedding model (0 when abstained)."""
    scored = [(row, served, reference) for row, served, reference in references if served]
    for row, served, _ in references:
        if not served:
            results[row].sas = 0.0
    if not scored:
        return
    vectors = pipeline.embedder.embed([s for _, s, _ in scored] + [r for _, _, r in scored])
    half = len(scored)
    for position, (row, _, _) in enumerate(scored):
        results[row].sas = round(float(np.dot(vectors[position], vectors[half + position])), 4)


def _aggregate(results: list[QuestionResult]) -> dict[str, float | None]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    judged = [r for r in answerable if r.ndcg_at_10 is not None]
    metrics: dict[str, float | None] = {}
    for k in KS:
        metrics[f"retrieval.recall@{k}"] = (
            _mean([r.retrieval_rank is not None and r.retrieval_rank <= k for r in judged]) if judged else None
        )
    metrics["retrieval.mrr@10"] = (
        _mean([1.0 / r.retrieval_rank if r.retrieval_rank else 0.0 for r in judged]) if judged else None
    )
    metrics["retrieval.ndcg@10"] = _mean([r.ndcg_at_10 for r in judged])
    metrics["answer.first_contains_gold"] = _mean([r.first_contains_gold for r in answerable])
    metrics["answer.any_contains_gold"] = _mean([r.any_contains_gold for r in answerable])
    metrics["answer.composed_contains_gold"] = _mean([r.composed_contains_gold for r in answerable])
    metrics["answer.token_f1"] = _mean([r.token_f1 for r in answerable])
    metrics["answer.rouge_l"] = _mean([r.rouge_l for r in answerable])
    metrics["answer.sas"] = _mean([r.sas for r in answerable])
    metrics["citations.precision"] = _mean([r.citation_precision for r in answerable])
    total = sum(r.citations_total for r in results)
    metrics["citations.verifiability"] = round(sum(r.citations_verified for r in results) / total, 4) if total else None
    factoid = [r for r in answerable if r.short_answer_em is not None]
    metrics["short_answer.em"] = _mean([r.short_answer_em for r in factoid])
    metrics["short_answer.f1"] = _mean([r.short_answer_f1 for r in factoid])
    metrics["short_answer.given"] = _mean([r.short_answer is not None for r in factoid])
    metrics["support.partial"] = _mean([r.support == "partial" for r in results])
    metrics["abstention.unanswerable_abstained"] = _mean([r.abstained for r in unanswerable])
    metrics["abstention.answerable_wrongly_abstained"] = _mean([r.abstained for r in answerable])
    latencies = [r.latency_ms for r in results]
    metrics["latency.p50_ms"] = round(percentile(latencies, 50), 2)
    metrics["latency.p95_ms"] = round(percentile(latencies, 95), 2)
    metrics["questions.answerable"] = float(len(answerable))
    metrics["questions.unanswerable"] = float(len(unanswerable))
    return metrics


def _abstains(result: QuestionResult, params: ComposerParams) -> bool:
    if params.require_answer_type and result.untyped:
        return True
    coverage = QuestionCoverage(
        result.term_coverage,
        result.named_coverage,
        candidate_named=result.candidate_named,
        uncounted=result.uncounted,
    )
    factoid = AnswerType(result.answer_type) in FACTOID
    return AnswerComposer.support_of(result.confidence, coverage, params, factoid=factoid) == "none"


def sweep_thresholds(
    results: Sequence[QuestionResult], params: ComposerParams | None = None, step: float = 0.01
) -> list[dict[str, float]]:
    """For each answer threshold (what ``--threshold`` and ``RAG_ABSTAIN_THRESHOLD`` set): share of
    unanswerable abstained, answerable wrongly abstained, and their balance
    ``(abstained_unanswerable + answered_answerable) / 2``; also correct answers kept. Each row is what
    the service would serve at that threshold: the coverage rules and the partial-answer threshold of
    ``params`` apply at every row (a broad question below the answer threshold still gets a partial
    answer at the partial one, which follows the answer threshold down when that is lower)."""
    params = params or ComposerParams()
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    rows = []
    for i in range(round(1 / step) + 1):
        threshold = round(i * step, 4)
        at = replace(params, abstain_threshold=threshold)
        abstained_u = fmean([_abstains(r, at) for r in unanswerable]) if unanswerable else 0.0
        wrongly = fmean([_abstains(r, at) for r in answerable]) if answerable else 0.0
        correct = (
            fmean([not _abstains(r, at) and bool(r.composed_contains_gold) for r in answerable]) if answerable else 0.0
        )
        balanced = (abstained_u + (1 - wrongly)) / 2 if unanswerable else 1 - wrongly
        rows.append(
            {
                "threshold": threshold,
                "unanswerable_abstained": round(abstained_u, 4),
                "answerable_wrongly_abstained": round(wrongly, 4),
                "balanced_accuracy": round(balanced, 4),
                "answerable_correct_and_answered": round(correct, 4),
            }
        )
    return rows


def calibration(results: Sequence[QuestionResult], bins: int = 5) -> list[dict[str, float]]:
    """Reliability table: per confidence bin, how many questions fall in it and the share whose composed
    answer is right (answerable, and it holds a gold answer; an unanswerable question counts as wrong)."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [r for r in results if low <= r.confidence < high or (b == bins - 1 and r.confidence >= 1.0)]
        right = [bool(r.answerable and r.composed_contains_gold) for r in members]
        rows.append(
            {
                "low": round(low, 2),
                "high": round(high, 2),
                "questions": float(len(members)),
                "mean_confidence": round(fmean([r.confidence for r in members]), 4) if members else 0.0,
                "share_right": round(fmean(right), 4) if members else 0.0,
            }
        )
    return rows


def best_threshold(sweep: Sequence[dict[str, float]]) -> dict[str, float]:
    """The threshold with the best balanced accuracy (the middle one of a tied run)."""
    top = max(row["balanced_accuracy"] for row in sweep)
    tied = [row for row in sweep if row["balanced_accuracy"] == top]
    return tied[len(tied) // 2]
