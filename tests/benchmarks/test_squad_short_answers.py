from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.squad_reqa import Question, short_answers
from rag.answer import ComposerParams
from rag.embedding import HashingEmbedder
from rag.pipeline import QAPipeline


def test_short_answers_are_scored_overall_and_by_answer_type(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "museum.txt").write_text(
        "Museum\n\nThe gallery of Japanese art opened in December 1986. It was designed by Alfred Stevens.\n",
        encoding="utf-8",
    )
    pipeline, _ = QAPipeline.from_paths(
        [corpus], tmp_path / "idx", embedder=HashingEmbedder(), composer=ComposerParams(abstain_threshold=0.0)
    )
    store = pipeline.store
    rows = {s.text: row for row, s in enumerate(store.sentences)}
    opened, designed = (
        rows["The gallery of Japanese art opened in December 1986."],
        rows["It was designed by Alfred Stevens."],
    )
    questions = [
        Question("q1", "In what year did the gallery of Japanese art open?", "museum", 0, (), ("1986",)),
        Question("q2", "Who designed the gallery?", "museum", 0, (), ("Alfred Stevens",)),
        Question("q3", "What is the gallery like?", "museum", 0, (), ("Japanese art",)),
        Question("q4", "How many visitors came to the gallery?", "museum", 0, (), ("9,000",)),
    ]
    rankings = {"q1": [opened, designed], "q2": [designed, opened], "q3": [opened, designed], "q4": [designed, opened]}
    answers, by_type = short_answers(
        store,
        pipeline.retriever,
        lambda _, question, __: rankings[question.qid],
        questions,
        np.zeros((4, 1)),
        None,  # type: ignore[arg-type]  # the judge is not read
        [{opened}, {designed}, {opened}, {opened}],
    )
    overall = dict(answers.rows)  # type: ignore[arg-type]
    assert overall["short answer given"] == "0.500"  # neither the descriptive question nor the uncounted one
    assert overall["short answer exact match (all questions)"] == "0.500"
    assert overall["hit@1 span, first cited sentence (typed sentence first)"] == "0.750"
    # "How many visitors ...?" cites a sentence with no number: /ask abstains, and that sentence is not the answer.
    assert overall["factoid question, no short answer: abstained on by the answer-type rule"] == "0.250"
    assert overall["... of which the cited span holds the answer"] == "0.000"
    typed = {row[0]: row[1:] for row in by_type.rows}
    assert typed["date"] == ["1", "1.000", "1.000", "1.000"]
    assert typed["person"] == ["1", "1.000", "1.000", "1.000"]
    assert typed["description"] == ["1", "0.000", "0.000", "0.000"]
    assert typed["quantity"] == ["1", "0.000", "0.000", "0.000"]
