"""The answer and ranking metrics, against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from rag.evaluation.metrics import (
    contains_gold,
    ndcg_at_k,
    normalize_answer,
    percentile,
    reciprocal_rank,
    rouge_l,
    token_f1,
)


def test_normalisation_drops_case_punctuation_articles_and_extra_spaces() -> None:
    assert normalize_answer("The  “All for All” format, an exchange.") == "all for all format exchange"
    assert normalize_answer("1,200 Ukrainians") == "1200 ukrainians"


def test_token_f1() -> None:
    # prediction "cat sat", gold "cat sat down": precision 1, recall 2/3
    assert token_f1("The cat sat", "a cat sat down") == pytest.approx(0.8)
    assert token_f1("dog", "cat") == 0.0
    assert token_f1("the", "a") == 1.0  # both empty once normalised
    assert token_f1("", "cat") == 0.0


def test_rouge_l_uses_the_longest_common_subsequence() -> None:
    # LCS "red green yellow" of four tokens each: precision = recall = 3/4
    assert rouge_l("red blue green yellow", "red green yellow black") == pytest.approx(0.75)
    assert rouge_l("yellow green red", "red green yellow") == pytest.approx(1 / 3)
    assert rouge_l("dog", "cat") == 0.0


def test_contains_gold_matches_whole_normalised_words() -> None:
    sentence = "Kyiv currently expects to free around 1,200 Ukrainians."
    assert contains_gold(sentence, ["1,200"])
    assert contains_gold(sentence, ["nothing", "the Ukrainians"])
    assert not contains_gold(sentence, ["200"])  # not a word of the sentence
    assert not contains_gold(sentence, ["the"])  # empty once normalised: never a match
    assert not contains_gold(sentence, [])


def test_reciprocal_rank_stops_at_k() -> None:
    assert reciprocal_rank([False, False, True]) == pytest.approx(1 / 3)
    assert reciprocal_rank([False, False, True], k=2) == 0.0
    assert reciprocal_rank([True, True]) == 1.0
    assert reciprocal_rank([]) == 0.0


def test_ndcg_against_the_ideal_ranking() -> None:
    assert ndcg_at_k([0.0, 1.0, 0.0], [1.0]) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([1.0, 0.0, 1.0], [1.0, 1.0]) == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([1.0, 1.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert ndcg_at_k([0.0, 1.0], [1.0], k=1) == 0.0
    assert ndcg_at_k([0.0], []) == 0.0  # nothing relevant exists


def test_percentile_interpolates_linearly() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))
