"""The reranker's BM25-candidate news pairs: labels from the answering articles, twins outside them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import realtimeqa
from benchmarks.rerank_pairs import news_lexical_pairs


def test_news_pairs_label_the_answering_sentence_and_skip_held_out_weeks(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realtimeqa, "default_weeks", lambda weeks: ["20240105"])  # the benchmark's week
    pairs = news_lexical_pairs(root, set(), depth=5, twin_depth=2)
    assert {p["group"] for p in pairs} == {"news:20230106"}
    positives = {(p["question"], p["passage"]) for p in pairs if p["label"]}
    assert positives == {
        ("Which town opened the Zorbel bridge?", "A headline: The Zorbel bridge was opened by Quillby on Monday."),
        ("How many lanterns were lit?", "A headline: Some 12 lanterns were lit in the square."),
    }
    assert all(p["answerable"] for p in pairs if p["label"])
    assert all(p["ranker"] is None for p in pairs)
    twins = [p for p in pairs if not p["answerable"]]
    assert all(not p["label"] and "Quillby" not in str(p["passage"]) for p in twins if "Zorbel" in str(p["question"]))
    assert news_lexical_pairs(root, {"20230106"}, depth=5, twin_depth=2) == []
