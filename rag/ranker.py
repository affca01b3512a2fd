"""A learned combination of the signals that say whether a sentence answers a question.

:func:`sentence_features` turns every candidate sentence into one row of named features (dense and
BM25 scores, its passage's score, answer-type match, neighbours, position, title overlap ...).
:class:`LinearRanker` scores the rows with a logistic regression fitted by
``benchmarks/fit_ranker.py`` and shipped as JSON (``rag/models/ranker.json``): the probability that
the sentence holds the answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer_types import FACTOID, AnswerType, answer_spans, has_cue

__all__ = [
    "DEFAULT_RANKER",
    "FEATURES",
    "CandidateSignals",
    "LinearRanker",
    "RankerError",
    "load_model",
    "load_ranker",
    "sentence_features",
]

DEFAULT_RANKER = "ranker.json"

FEATURES: tuple[str, ...] = (
    "dense",
    "dense_gap",
    "dense_rank_recip",
    "lexical_norm",
    "lexical_log",
    "lexical_rank_recip",
    "passage_score",
    "coverage",
    "coverage_with_neighbours",
    "type_match",
    "type_expected_missing",
    "neighbour_type_match",
    "cue",
    "neighbour_dense",
    "neighbour_lexical_norm",
    "title_overlap",
    "position",
    "first_sentence",
    "length_log",
    "quote",
    "type_factoid",
    "neighbour_type_factoid",
    "coverage_gap",
    "reason_quote",
    "ordinal_agreement",
    "counts_asked",
    "date_granularity",
)


class RankerError(RuntimeError):
    """A ranker model file that cannot be used; the message names the file."""


@dataclass
class CandidateSignals:
    """Per-candidate raw signals, aligned with ``rows``, that :func:`sentence_features` combines."""

    rows: list[int]
    dense: np.ndarray
    lexical: np.ndarray
    passage_score: np.ndarray
    coverage: np.ndarray
    coverage_with_neighbours: np.ndarray
    type_match: np.ndarray
    neighbour_type_match: np.ndarray
    cue: np.ndarray
    neighbour_dense: np.ndarray
    neighbour_lexical: np.ndarray
    title_overlap: np.ndarray
    position: np.ndarray
    first_sentence: np.ndarray
    length: np.ndarray
    quote: np.ndarray
    ordinal: np.ndarray
    """+1/−1/0 per candidate: it names the ordinal the question asks about / only another one / neither."""
    counted: np.ndarray
    """1 per candidate that puts a quantity before what a "how many" question counts (see rag.agreement)."""
    granular: np.ndarray
    """1 per candidate holding a date as precise as the question asks ("what year": a year; see rag.agreement)."""
    answer_type: AnswerType = AnswerType.DESCRIPTION
    extra: dict[str, Any] = field(default_factory=dict)


def _recip_rank(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(values.size)
    return 1.0 / (1.0 + ranks.astype(np.float64))


def sentence_features(signals: CandidateSignals) -> np.ndarray:
    """One row per candidate, one column per name in :data:`FEATURES`."""
    n = len(signals.rows)
    if n == 0:
        return np.zeros((0, len(FEATURES)))
    lexical_top = float(signals.lexical.max())
    lexical_norm = signals.lexical / lexical_top if lexical_top > 0 else np.zeros(n)
    neighbour_lexical_norm = signals.neighbour_lexical / lexical_top if lexical_top > 0 else np.zeros(n)
    factoid = signals.answer_type in FACTOID
    columns = {
        "dense": signals.dense,
        "dense_gap": signals.dense - float(signals.dense.max()),
        "dense_rank_recip": _recip_rank(signals.dense),
        "lexical_norm": lexical_norm,
        "lexical_log": np.log1p(np.maximum(signals.lexical, 0.0)),
        "lexical_rank_recip": _recip_rank(signals.lexical),
        "passage_score": signals.passage_score,
        "coverage": signals.coverage,
        "coverage_with_neighbours": signals.coverage_with_neighbours,
        "type_match": signals.type_match,
        "type_expected_missing": (1.0 - signals.type_match) if factoid else np.zeros(n),
        "neighbour_type_match": signals.neighbour_type_match,
        "cue": signals.cue,
        "neighbour_dense": signals.neighbour_dense,
        "neighbour_lexical_norm": np.minimum(neighbour_lexical_norm, 1.0),
        "title_overlap": signals.title_overlap,
        "position": signals.position,
        "first_sentence": signals.first_sentence,
        "length_log": np.log1p(signals.length),
        "quote": signals.quote,
        # Interactions a linear model cannot form itself: a type match only matters for factoid questions,
        # and a quote next to the match usually carries the reason asked for.
        "type_factoid": signals.type_match if factoid else np.zeros(n),
        "neighbour_type_factoid": signals.neighbour_type_match if factoid else np.zeros(n),
        "coverage_gap": signals.coverage - float(signals.coverage.max()),
        "reason_quote": signals.quote if signals.answer_type is AnswerType.REASON else np.zeros(n),
        "ordinal_agreement": signals.ordinal,
        "counts_asked": signals.counted,
        "date_granularity": signals.granular,
    }
    return np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in FEATURES])


@dataclass(frozen=True)
class LinearRanker:
    """``sigmoid(((x - mean) / scale) · coef + intercept)`` over :data:`FEATURES`."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(x)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "logistic_regression",
            "features": list(self.features),
            "mean": [round(float(v), 8) for v in self.mean],
            "scale": [round(float(v), 8) for v in self.scale],
            "coef": [round(float(v), 8) for v in self.coef],
            "intercept": round(float(self.intercept), 8),
            "meta": self.meta,
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], where: str = "ranker", expected: tuple[str, ...] = FEATURES
    ) -> LinearRanker:
        try:
            features = tuple(str(f) for f in data["features"])
            arrays = [np.asarray(data[key], dtype=np.float64) for key in ("mean", "scale", "coef")]
            intercept = float(data["intercept"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RankerError(f"{where} is not a ranker model ({exc})") from exc
        if features != expected:
            missing = sorted(set(expected) ^ set(features))
            raise RankerError(
                f"{where} was fitted on other features ({', '.join(missing) or 'order differs'}); "
                "refit with: python -m benchmarks.fit_ranker"
            )
        if any(a.shape != (len(expected),) for a in arrays) or not all(math.isfinite(v) for a in arrays for v in a):
            raise RankerError(f"{where}: mean, scale and coef need {len(expected)} finite numbers each")
        mean, scale, coef = arrays
        return cls(features, mean, np.where(scale > 0, scale, 1.0), coef, intercept, dict(data.get("meta", {})))


def load_model(
    path: Path | str | None = None, *, default: str = DEFAULT_RANKER, expected: tuple[str, ...] = FEATURES
) -> LinearRanker:
    """A shipped linear model (``rag/models/<default>``), or the one at ``path``."""
    if path is None:
        source = resources.files("rag.models").joinpath(default)
        where = f"rag/models/{default}"
        text = source.read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RankerError(f"cannot read ranker model {where}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RankerError(f"{where} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise RankerError(f"{where} is not a ranker model (expected a JSON object)")
    return LinearRanker.from_dict(data, where, expected)


def load_ranker(path: Path | str | None = None) -> LinearRanker:
    """The shipped sentence ranker, or the one at ``path``."""
    return load_model(path)


def typed_match(
    answer_type: AnswerType, entity_rows: Sequence[Any], text: str, document_text: str, asked: frozenset[str]
) -> float:
    """1.0 when the sentence holds an answer of the asked-for type (an entity, or a reason/list cue)."""
    if answer_type in FACTOID:
        return 1.0 if answer_spans(answer_type, entity_rows, document_text, asked) else 0.0
    return 1.0 if has_cue(answer_type, text) else 0.0
