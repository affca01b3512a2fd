"""The RealtimeQA loader on a tiny made-up week: pool de-duplication, answerable and unanswerable questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.realtimeqa import (
    Question,
    build_unanswerable,
    contains_answer,
    contains_normalised,
    default_weeks,
    load_week,
    partner_week,
    read_questions,
    score_response,
    weeks_available,
)


def test_weeks_available_skips_held_out_year(root: Path) -> None:
    assert weeks_available(root) == ["20230106", "20240105"]
    with pytest.raises(ValueError, match="held out"):
        weeks_available(root, ["2022"])
    with pytest.raises(ValueError, match="held out"):
        load_week(root, "20221230")


def test_pool_is_deduplicated_and_answerable_questions_have_gold_docs(root: Path) -> None:
    week = load_week(root, "20230106")
    texts = [a.text for a in week.articles]
    assert texts == [
        "The Zorbel bridge was opened by Quillby on Monday.",
        "Some 12 lanterns were lit in the square.",
        "Ana Vossberg and ana voss did not play.",
    ]
    assert week.duplicates_dropped == 2  # same url, then same text under another url
    assert week.empty_dropped == 1
    assert len({a.doc_id for a in week.articles}) == 3
    assert all(a.doc_id.startswith("rtqa_") for a in week.articles)
    by_id = {q.question_id: q for q in week.questions}
    assert by_id["20230106_0"].gold == "Quillby"
    assert by_id["20230106_0"].gold_doc_ids == (week.articles[0].doc_id,)
    assert by_id["20230106_1"].gold_doc_ids == (week.articles[1].doc_id,)
    assert not by_id["20230106_2"].answerable
    assert [q.question_id for q in week.answerable] == ["20230106_0", "20230106_1"]
    assert load_week(root, "20230106").articles[0].doc_id == week.articles[0].doc_id  # stable ids


def test_unanswerable_questions_come_from_another_week_and_miss_the_pool(root: Path) -> None:
    week = load_week(root, "20230106")
    assert partner_week(weeks_available(root), "20230106") == "20240105"
    others = read_questions(root, "20240105")
    unanswerable = build_unanswerable(week, others, limit=5)
    # "Quillby" occurs in the pool; "How many lanterns were lit?" is one of the week's own questions.
    assert [q.question_id for q in unanswerable] == ["20240105_1"]
    assert all(not q.answerable and q.week == "20240105" for q in unanswerable)
    assert build_unanswerable(week, others, limit=0) == []


def test_contains_answer_is_case_sensitive_at_word_boundaries() -> None:
    assert contains_answer("It cost 4,000 dollars.", "4,000")
    assert contains_answer("Made in the U.S. today", "U.S.")
    assert not contains_answer("Ana Vossberg", "Ana Voss")
    assert not contains_answer("quillby", "Quillby")
    assert not contains_answer(None, "x")


def test_default_weeks_are_spread_and_deterministic() -> None:
    weeks = [f"2023{m:02d}01" for m in range(1, 13)]
    assert default_weeks(weeks, 3) == ["20230301", "20230701", "20231101"]
    assert default_weeks(weeks, 20) == weeks


def test_a_response_is_scored_both_case_sensitively_and_normalised() -> None:
    question = Question("q1", "20240105", "How many golds did he win?", ("Four", "Five"), "Five", "src", ("d1",))
    body = {
        "answer": "He won five. [1]",
        "sentences": [{"text": "Eric Heiden, famously winning five, swept the events."}, {"text": "Five golds."}],
        "citations": [{"doc_id": "d1"}],
        "short_answer": {"text": "five"},
        "abstained": False,
    }
    record = score_response("20240105", question, body)
    assert (record.first_contains, record.first_normalised) == (False, True)
    assert (record.whole_contains, record.whole_normalised) == (True, True)
    assert record.short_exact and record.doc_at_1
    abstained = score_response("20240105", question, {**body, "abstained": True})
    assert not (abstained.first_normalised or abstained.whole_normalised)


def test_normalised_containment_ignores_case_and_punctuation_but_keeps_possessives() -> None:
    assert contains_normalised("famously winning five as he swept", "Five")
    assert contains_normalised("15 medals in cross-country skiing.", "Cross-country skiing")
    assert contains_normalised("Cuba's national grid shut down", "Cuba")
    assert not contains_normalised("Ana Vossberg", "Ana Voss")
    assert not contains_normalised(None, "x")
