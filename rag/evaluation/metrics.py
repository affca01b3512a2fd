"""Answer and ranking metrics, each a plain function of plain values."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

__all__ = ["contains_gold", "ndcg_at_k", "normalize_answer", "percentile", "reciprocal_rank", "rouge_l", "token_f1"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation) | set("“”‘’–—…«»")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token-overlap F1 between two normalised texts."""
    predicted, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (longest common subsequence of normalised tokens)."""
    predicted, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not predicted or not gold:
        return float(predicted == gold)
    lcs = _lcs_length(predicted, gold)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(predicted), lcs / len(gold)
    return 2 * precision * recall / (precision + recall)


def contains_gold(text: str, answers: Sequence[str]) -> bool:
    """Whether any gold answer string occurs in ``text`` once both are normalised."""
    haystack = f" {normalize_answer(text)} "
    return any(f" {normalize_answer(a)} " in haystack for a in answers if normalize_answer(a))


def reciprocal_rank(relevant: Sequence[bool], k: int = 10) -> float:
    """1/rank of the first relevant item within the top ``k``; 0 if none."""
    for rank, is_relevant in enumerate(relevant[:k], start=1):
        if is_relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(gains: Sequence[float], ideal_gains: Sequence[float], k: int = 10) -> float:
    """nDCG@k with gains by rank and the gains of an ideal ranking (trec_eval's linear gain)."""

    def dcg(values: Sequence[float]) -> float:
        return sum(g / math.log2(rank + 1) for rank, g in enumerate(values[:k], start=1))

    ideal = dcg(sorted(ideal_gains, reverse=True))
    return dcg(gains) / ideal if ideal > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
