from __future__ import annotations

import pytest

from rag.segment import looks_like_heading, split_sentences
from tests.conftest import SEEDS


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_quote_ending_in_comma_and_attribution_stays_one_sentence() -> None:
    text = "“We are … counting on the resumption of exchanges,” he said. “Many meetings are devoted to this.”"
    assert sentences(text) == [
        "“We are … counting on the resumption of exchanges,” he said.",
        "“Many meetings are devoted to this.”",
    ]


def test_question_inside_quote_followed_by_lowercase_attribution() -> None:
    assert sentences("“Will they agree?” he asked. Nobody knew.") == ["“Will they agree?” he asked.", "Nobody knew."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Kyiv expects to free around 1,200 Ukrainians. Talks go on.",
            ["Kyiv expects to free around 1,200 Ukrainians.", "Talks go on."],
        ),
        (
            "The U.S. team will join online. Fifteen countries confirmed.",
            ["The U.S. team will join online.", "Fifteen countries confirmed."],
        ),
        (
            "Gen. Smith and Dr. Jones met on Jan. 5 in Kyiv. They talked.",
            ["Gen. Smith and Dr. Jones met on Jan. 5 in Kyiv.", "They talked."],
        ),
        (
            "J. R. Tolkien wrote it. He lived in the U.S. The end came.",
            ["J. R. Tolkien wrote it.", "He lived in the U.S.", "The end came."],
        ),
        (
            "Inflation was 3.5 percent — a record. Prices rose.",
            ["Inflation was 3.5 percent — a record.", "Prices rose."],
        ),
    ],
)
def test_news_prose(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_line_breaks_end_sentences_so_headlines_stand_alone() -> None:
    text = "Istanbul agreements back in focus\nThe agreements outline procedures. They enabled swaps."
    assert sentences(text) == [
        "Istanbul agreements back in focus",
        "The agreements outline procedures.",
        "They enabled swaps.",
    ]


def test_soft_wrapped_lines_join_when_line_breaks_are_off() -> None:
    text = "First line of a paragraph\ncontinues here. Second.\n\nNext paragraph"
    assert [text[a:b] for a, b in split_sentences(text, line_breaks=False)] == [
        "First line of a paragraph\ncontinues here.",
        "Second.",
        "Next paragraph",
    ]


def test_spans_are_offsets_into_the_original_text_within_a_range() -> None:
    text = "ignored. Inside one. Inside two.  trailing"
    spans = split_sentences(text, 9, 32)
    assert [text[a:b] for a, b in spans] == ["Inside one.", "Inside two."]


def test_every_seed_span_is_verbatim_ordered_and_disjoint() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        spans = split_sentences(text)
        assert spans, path
        previous_end = 0
        for start, end in spans:
            assert previous_end <= start < end
            assert text[start:end] == text[start:end].strip()
            previous_end = end


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("Kyiv hopes for returns before year-end holidays", True),
        ("The third round of talks took place on July 23.", False),
        ("“This concerns the release of 1,200 Ukrainians,”", False),
    ],
)
def test_heading_detection(line: str, heading: bool) -> None:
    assert looks_like_heading(line) is heading
