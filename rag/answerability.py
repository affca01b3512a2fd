"""Whether the articles answer a question at all: a calibrated probability from the ranked candidates.

:func:`question_features` summarises one question's ranked sentences and coverage into a row of
named features (how strongly the best sentence matches, by how much it beats the next, whether the
question's names are where the answer was looked for, whether an answer of the asked-for type is
there ...). :class:`AnswerabilityModel` is a logistic regression over them, fitted by
``benchmarks/fit_ranker.py`` on questions whose answer is in the index and on the same questions with
the answering articles removed, and shipped as ``rag/models/answerability.json``. Its probability is
the answer's confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answer_types import FACTOID, AnswerType
from rag.lexical import content_terms
from rag.ranker import LinearRanker, load_model
from rag.retrieval import QuestionCoverage, ScoredSentence

__all__ = [
    "DEFAULT_ANSWERABILITY",
    "QUESTION_FEATURES",
    "AnswerabilityModel",
    "load_answerability",
    "question_features",
]

DEFAULT_ANSWERABILITY = "answerability.json"

QUESTION_FEATURES: tuple[str, ...] = (
    "top_logit",
    "logit_gap",
    "top_dense",
    "max_dense",
    "evidence_lexical",
    "candidate_named",
    "top_coverage",
    "top_type",
    "typed_in_top3",
    "factoid",
)

LEXICAL_SATURATION = 6.0


def _logit(probability: float) -> float:
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def question_features(
    question: str,
    ranked: Sequence[ScoredSentence],
    coverage: QuestionCoverage,
    answer_type: AnswerType,
) -> np.ndarray:
    """One row of :data:`QUESTION_FEATURES` for ``question`` and its ranked candidate sentences."""
    if not ranked:
        return np.zeros(len(QUESTION_FEATURES))
    scores = [s.probability if s.probability is not None else s.score for s in ranked[:2]]
    top = _logit(scores[0]) if ranked[0].probability is not None else scores[0]
    second = (_logit(scores[1]) if ranked[1].probability is not None else scores[1]) if len(scores) > 1 else top - 5
    raw = max(s.passage_lexical for s in ranked[:2])
    values = {
        "top_logit": top,
        "logit_gap": min(top - second, 10.0),
        "top_dense": ranked[0].dense,
        "max_dense": max(s.dense for s in ranked),
        "top_lexical_log": math.log1p(max(ranked[0].lexical, 0.0)),
        "evidence_lexical": raw / (raw + LEXICAL_SATURATION) if raw > 0 else 0.0,
        "term_coverage": coverage.terms,
        "named_coverage": coverage.named,
        "candidate_named": coverage.candidate_named,
        "top_coverage": ranked[0].coverage,
        "top_type": 1.0 if ranked[0].type_match else 0.0,
        "typed_in_top3": 1.0 if any(s.type_match for s in ranked[:3]) else 0.0,
        "factoid": 1.0 if answer_type in FACTOID else 0.0,
        "query_terms_log": math.log1p(len(content_terms(question))),
    }
    return np.asarray([values[name] for name in QUESTION_FEATURES], dtype=np.float64)


@dataclass(frozen=True)
class AnswerabilityModel:
    """The probability that the articles answer the question, from :func:`question_features`."""

    model: LinearRanker

    def probability(self, features: np.ndarray) -> float:
        return float(self.model.probabilities(features.reshape(1, -1))[0])


def load_answerability(path: Path | str | None = None) -> AnswerabilityModel:
    """The shipped answerability model, or the one at ``path``."""
    return AnswerabilityModel(load_model(path, default=DEFAULT_ANSWERABILITY, expected=QUESTION_FEATURES))
