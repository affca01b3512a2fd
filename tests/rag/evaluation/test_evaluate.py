"""Scoring a pipeline against gold questions: the served decision, the sweep and the calibration table."""

from __future__ import annotations

import pytest

from rag.answer import ComposerParams
from rag.evaluation.evaluate import QuestionResult, best_threshold, calibration, evaluate, sweep_thresholds
from rag.evaluation.gold import GoldItem, load_gold
from rag.pipeline import QAPipeline
from tests.conftest import DEV_GOLD


def result(confidence: float, *, answerable: bool, right: bool = False, **fields: object) -> QuestionResult:
    return QuestionResult(
        id=f"q{confidence}",
        question="What happened?",
        answerable=answerable,
        confidence=confidence,
        abstained=False,
        composed_answer="",
        served_answer="",
        composed_contains_gold=right,
        **fields,  # type: ignore[arg-type]
    )


# Factoid questions: no partial answers, so each is answered exactly when its confidence reaches the threshold.
RESULTS = [
    result(0.8, answerable=True, right=True, answer_type="person"),
    result(0.4, answerable=True, right=True, answer_type="quantity"),
    result(0.2, answerable=False, answer_type="person"),
    result(0.5, answerable=False, answer_type="date"),
]


def row_at(sweep: list[dict[str, float]], threshold: float) -> dict[str, float]:
    return next(row for row in sweep if row["threshold"] == threshold)


def test_the_sweep_abstains_below_each_threshold() -> None:
    sweep = sweep_thresholds(RESULTS, ComposerParams(), step=0.05)
    assert [row["threshold"] for row in sweep][:3] == [0.0, 0.05, 0.1] and sweep[-1]["threshold"] == 1.0
    assert row_at(sweep, 0.0) == {
        "threshold": 0.0,
        "unanswerable_abstained": 0.0,
        "answerable_wrongly_abstained": 0.0,
        "balanced_accuracy": 0.5,
        "answerable_correct_and_answered": 1.0,
    }
    assert row_at(sweep, 0.3)["unanswerable_abstained"] == 0.5 and row_at(sweep, 0.3)["balanced_accuracy"] == 0.75
    at_45 = row_at(sweep, 0.45)
    assert at_45["answerable_wrongly_abstained"] == 0.5 and at_45["answerable_correct_and_answered"] == 0.5
    assert row_at(sweep, 0.6)["unanswerable_abstained"] == 1.0 and row_at(sweep, 0.6)["balanced_accuracy"] == 0.75
    assert row_at(sweep, 0.85)["answerable_wrongly_abstained"] == 1.0


def test_a_broad_question_keeps_its_partial_answer_above_the_partial_threshold() -> None:
    broad = result(0.27, answerable=True, right=True)  # a description question, all its terms covered
    sweep = sweep_thresholds([broad], ComposerParams(partial_threshold=0.25), step=0.01)
    assert row_at(sweep, 0.25)["answerable_wrongly_abstained"] == 0.0
    assert row_at(sweep, 0.9)["answerable_wrongly_abstained"] == 0.0  # partial answer at 0.25 <= 0.27
    assert row_at(sweep, 0.9)["answerable_correct_and_answered"] == 1.0
    # Below the partial threshold, or with its terms not covered, it is abstained on.
    assert sweep_thresholds([broad], ComposerParams(partial_threshold=0.3))[90]["answerable_wrongly_abstained"] == 1.0
    uncovered = result(0.27, answerable=True, right=True, term_coverage=0.0)
    assert row_at(sweep_thresholds([uncovered], ComposerParams()), 0.9)["answerable_wrongly_abstained"] == 1.0


def test_the_sweep_replays_the_coverage_rules_at_every_threshold() -> None:
    # A "how many" question about a noun the articles never count is abstained on whatever its confidence.
    uncounted = result(0.9, answerable=False, uncounted="children")
    unnamed = result(0.9, answerable=False, named_coverage=0.0)
    for row in sweep_thresholds([uncounted, unnamed], ComposerParams(), step=0.25):
        assert row["unanswerable_abstained"] == 1.0
    assert sweep_thresholds([uncounted], ComposerParams(abstain_uncounted=False), step=0.5)[1] == {
        "threshold": 0.5,
        "unanswerable_abstained": 0.0,
        "answerable_wrongly_abstained": 0.0,
        "balanced_accuracy": 0.5,
        "answerable_correct_and_answered": 0.0,
    }


def test_best_threshold_takes_the_middle_of_the_best_rows() -> None:
    sweep = sweep_thresholds(RESULTS, ComposerParams(), step=0.1)
    # Balanced accuracy 0.75 at 0.3 and 0.4 (0.2 < t <= 0.4) and at 0.6, 0.7, 0.8 (0.5 < t <= 0.8).
    assert [row["threshold"] for row in sweep if row["balanced_accuracy"] == 0.75] == [0.3, 0.4, 0.6, 0.7, 0.8]
    assert best_threshold(sweep)["threshold"] == 0.6


def test_calibration_bins_questions_by_confidence() -> None:
    table = calibration([*RESULTS, result(1.0, answerable=True, right=False)], bins=5)
    assert [(row["low"], row["high"]) for row in table] == [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]
    assert [row["questions"] for row in table] == [0.0, 1.0, 2.0, 0.0, 2.0]  # 1.0 lands in the last bin
    assert table[2] == {"low": 0.4, "high": 0.6, "questions": 2.0, "mean_confidence": 0.45, "share_right": 0.5}
    assert table[4]["share_right"] == 0.5 and table[0]["share_right"] == 0.0


@pytest.fixture(scope="module")
def dev_items() -> list[GoldItem]:
    return load_gold(DEV_GOLD)


def test_the_evaluation_scores_what_the_service_serves(fake_pipeline: QAPipeline, dev_items: list[GoldItem]) -> None:
    report = evaluate(fake_pipeline, dev_items)
    assert [r.id for r in report.questions] == [item.id for item in dev_items]
    for item, scored in zip(dev_items, report.questions, strict=True):
        served = fake_pipeline.ask(item.question)
        assert scored.abstained == served.abstained, item.id
        assert scored.confidence == pytest.approx(served.confidence), item.id
        if not served.abstained:
            assert scored.served_answer == " ".join(s.text for s in served.sentences), item.id
    metrics = report.metrics
    assert metrics["citations.verifiability"] == 1.0
    assert metrics["questions.answerable"] == 64 and metrics["questions.unanswerable"] == 17
    wrongly = sum(r.abstained for r in report.questions if r.answerable) / 64
    assert metrics["abstention.answerable_wrongly_abstained"] == pytest.approx(wrongly, abs=1e-4)
    assert report.config["abstain_threshold"] == fake_pipeline.composer.params.abstain_threshold


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.45, 0.7])
def test_each_sweep_row_is_what_rag_eval_serves_at_that_threshold(
    fake_pipeline: QAPipeline, dev_items: list[GoldItem], threshold: float
) -> None:
    # The sweep recommends RAG_ABSTAIN_THRESHOLD; it moved the partial-answer threshold along with it,
    # so its rows differed from `rag eval --threshold` wherever a broad question had a partial answer.
    base = evaluate(fake_pipeline, dev_items)
    served = evaluate(fake_pipeline, dev_items, threshold=threshold).metrics
    row = row_at(base.sweep, threshold)
    assert row["unanswerable_abstained"] == pytest.approx(served["abstention.unanswerable_abstained"], abs=1e-4)
    assert row["answerable_wrongly_abstained"] == pytest.approx(
        served["abstention.answerable_wrongly_abstained"], abs=1e-4
    )


def test_a_threshold_of_one_leaves_only_partial_answers(fake_pipeline: QAPipeline, dev_items: list[GoldItem]) -> None:
    # --threshold moves the answer threshold; a broad question can still get a partial answer at the
    # partial-answer threshold, a factoid (who, how many, ...) cannot.
    report = evaluate(fake_pipeline, dev_items, threshold=1.0)
    assert {r.support for r in report.questions} == {"none", "partial"}
    for scored in report.questions:
        if scored.support == "none":
            assert scored.abstained and scored.served_answer == "The articles do not answer this question."
        if scored.answer_type in {"person", "quantity", "date", "country", "city"}:
            assert scored.abstained, scored.id
    partial = sum(r.support == "partial" for r in report.questions) / 81
    assert report.metrics["support.partial"] == pytest.approx(partial, abs=1e-4)
