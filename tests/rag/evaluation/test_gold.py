"""Gold sets: JSONL records or an FAQ document's pairs; a bad file is an error naming file and line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.evaluation.gold import GoldError, GoldItem, load_gold
from tests.conftest import DEV_GOLD, SEEDS

FAQ_DOCUMENT = SEEDS / "004_286debfea32733cf.txt"


def test_the_development_set_loads_with_its_fields() -> None:
    items = load_gold(DEV_GOLD)
    assert len(items) == len({item.id for item in items}) == 81
    assert sum(item.answerable for item in items) == 64
    first = items[0]
    assert first.answers and first.doc_ids and first.reference_answer
    assert first.extra.get("style")  # fields the loader does not know are kept, not dropped


def test_an_faq_document_gives_its_pairs_as_reference_answers() -> None:
    items = load_gold(FAQ_DOCUMENT)
    assert [item.id for item in items] == [f"faq-{n}" for n in range(1, 9)]
    assert all(item.question.endswith("?") and item.reference_answer and not item.answers for item in items)


def test_a_byte_order_mark_before_the_first_record_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "q1", "question": "Who?", "answerable": False}).encode())
    assert load_gold(path) == [GoldItem(id="q1", question="Who?", answerable=False)]  # was "not valid JSON"


def test_an_unanswerable_question_needs_no_answer(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "Who?", "answerable": False}) + "\n\n", encoding="utf-8")
    assert load_gold(path) == [GoldItem(id="q1", question="Who?", answerable=False)]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["{not json"], "gold.jsonl:1: not valid JSON"),
        (['["q"]'], "gold.jsonl:1: expected a JSON object"),
        (['{"id": "q1"}'], "gold.jsonl:1: 'question' must be a non-empty string"),
        (['{"id": "q1", "question": "\\u200b"}'], "gold.jsonl:1: 'question' must be a non-empty string"),
        (['{"id": "q1", "question": "Who?", "answerable": "yes"}'], "gold.jsonl:1: 'answerable' must be true or false"),
        (
            ['{"id": "q1", "question": "Who?", "answers": "Umerov"}'],
            "gold.jsonl:1: 'answers' must be a list of strings",
        ),
        (['{"id": "q1", "question": "Who?", "reference_answer": 3}'], "'reference_answer' must be a string"),
        (
            ['{"id": "q1", "question": "Who?"}'],
            "gold.jsonl:1: an answerable question needs 'answers' or 'reference_answer'",
        ),
        (
            [
                '{"id": "q1", "question": "Who?", "answers": ["A"]}',
                "",
                '{"id": "q1", "question": "Why?", "answers": ["B"]}',
            ],
            "gold.jsonl:3: duplicate id 'q1'",
        ),
    ],
)
def test_a_bad_record_names_file_and_line(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match=re.escape(message)):
        load_gold(path)


def test_unreadable_files_are_gold_errors(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="no such file"):
        load_gold(tmp_path / "missing.jsonl")
    (tmp_path / "notes.txt").write_text("Just a note.\n", encoding="utf-8")
    with pytest.raises(GoldError, match=r"neither a \.jsonl gold file nor an FAQ document"):
        load_gold(tmp_path / "notes.txt")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"id": "q", "question": "caf\xe9?"}\n')
    with pytest.raises(GoldError, match="cannot be read"):
        load_gold(tmp_path / "latin1.jsonl")
