from __future__ import annotations

import pytest

from rag.faq import looks_like_faq, parse_faq
from tests.conftest import SEEDS

FAQ_FILE = SEEDS / "004_286debfea32733cf.txt"


def test_seed_faq_parses_into_eight_pairs_after_a_summary() -> None:
    text = FAQ_FILE.read_text(encoding="utf-8")
    faq = parse_faq("004", text)
    assert len(faq.pairs) == 8
    assert faq.summary.startswith("Ukraine and Russia are engaged in complex negotiations")
    assert faq.pairs[0].question == "What is the current status of the Ukraine-Russia prisoner exchange?"
    assert faq.pairs[-1].answer.startswith("Yes, the exchanges have prioritized categories")
    for pair in faq.pairs:
        assert pair.question.endswith("?") and not pair.answer.endswith("?")
        assert text[pair.question_start :].startswith(pair.question)
        assert text[pair.answer_start :].startswith(pair.answer)


@pytest.mark.parametrize(
    "name",
    ["000_547d51fb02376e96.txt", "001_da2890c1c1429775.txt", "002_40c1d57616b0398b.txt", "003_6085d973d4879d11.txt"],
)
def test_articles_are_not_faqs(name: str) -> None:
    assert not looks_like_faq((SEEDS / name).read_text(encoding="utf-8"))


def test_a_document_without_pairs_is_rejected() -> None:
    with pytest.raises(ValueError, match="no question/answer pairs"):
        parse_faq("x", "Just a statement.\nAnother one.")
