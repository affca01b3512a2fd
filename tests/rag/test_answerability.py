from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.answer_types import AnswerType
from rag.answerability import QUESTION_FEATURES, AnswerabilityModel, load_answerability, question_features
from rag.documents import Sentence
from rag.ranker import LinearRanker, RankerError
from rag.retrieval import QuestionCoverage, ScoredSentence
from tests.conftest import REPO


def scored(row: int, probability: float, *, dense: float = 0.5, typed: bool = False) -> ScoredSentence:
    sentence = Sentence(doc_id="d", start=row * 10, end=row * 10 + 9, text="x" * 9, section=0)
    return ScoredSentence(row, sentence, probability, dense, 2.0, 1.0, 3.0, probability, typed, 0.5)


def test_shipped_model_loads_with_its_thresholds() -> None:
    model = load_answerability()
    assert model.model.features == QUESTION_FEATURES
    assert 0 < model.model.meta["partial_threshold"] <= model.model.meta["answer_threshold"] < 1


def test_features_read_the_ranking_and_the_coverage() -> None:
    coverage = QuestionCoverage(terms=0.8, named=1.0, candidate_named=0.5)
    strong = question_features("Who won?", [scored(0, 0.9, typed=True), scored(1, 0.1)], coverage, AnswerType.PERSON)
    weak = question_features("Who won?", [scored(0, 0.4), scored(1, 0.35)], coverage, AnswerType.PERSON)
    names = list(QUESTION_FEATURES)
    assert strong[names.index("top_logit")] > weak[names.index("top_logit")]
    assert strong[names.index("logit_gap")] > weak[names.index("logit_gap")]
    assert strong[names.index("top_type")] == 1.0 and weak[names.index("top_type")] == 0.0
    assert strong[names.index("candidate_named")] == 0.5
    assert strong[names.index("factoid")] == 1.0
    assert question_features("Why?", [], coverage, AnswerType.REASON).tolist() == [0.0] * len(names)


def test_a_stronger_best_sentence_is_more_likely_answerable() -> None:
    n = len(QUESTION_FEATURES)
    coef = np.zeros(n)
    coef[QUESTION_FEATURES.index("top_logit")] = 1.0
    model = AnswerabilityModel(LinearRanker(QUESTION_FEATURES, np.zeros(n), np.ones(n), coef, 0.0))
    coverage = QuestionCoverage(terms=1.0, named=1.0)
    high = model.probability(question_features("q", [scored(0, 0.95)], coverage, AnswerType.DESCRIPTION))
    low = model.probability(question_features("q", [scored(0, 0.05)], coverage, AnswerType.DESCRIPTION))
    assert 0.9 < high < 1 and 0 < low < 0.1


def test_a_ranker_file_is_refused_as_an_answerability_model(tmp_path: Path) -> None:
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(json.loads((REPO / "rag" / "models" / "ranker.json").read_text())), encoding="utf-8")
    with pytest.raises(RankerError, match="other features") as error:
        load_answerability(path)
    assert str(path) in str(error.value)
