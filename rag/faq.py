"""Recognise an FAQ document by its shape and parse it into question/answer pairs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

__all__ = ["FaqDocument", "FaqPair", "looks_like_faq", "parse_faq"]


@dataclass(frozen=True)
class FaqPair:
    """One question and its answer, with offsets into the FAQ document's text."""

    question: str
    answer: str
    question_start: int
    answer_start: int


@dataclass(frozen=True)
class FaqDocument:
    doc_id: str
    summary: str
    pairs: tuple[FaqPair, ...]


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group(0)
        stripped = line.strip()
        if stripped:
            out.append((match.start() + line.index(stripped[0]), stripped))
    return out


def _is_question(line: str) -> bool:
    return line.endswith("?") and len(line.split()) >= 3


def _pairs(lines: list[tuple[int, str]]) -> list[FaqPair]:
    pairs = []
    for (q_start, question), (a_start, answer) in pairwise(lines):
        if _is_question(question) and not _is_question(answer):
            pairs.append(FaqPair(question, answer, q_start, a_start))
    return pairs


def looks_like_faq(text: str) -> bool:
    """At least three question lines each followed by an answer line, making up most of the text."""
    lines = _lines(text)
    pairs = _pairs(lines)
    return len(pairs) >= 3 and 2 * len(pairs) >= 0.6 * len(lines)


def parse_faq(doc_id: str, text: str) -> FaqDocument:
    """Split an FAQ document into its summary (lines before the first question) and its pairs."""
    lines = _lines(text)
    pairs = _pairs(lines)
    if not pairs:
        raise ValueError(f"{doc_id}: no question/answer pairs found")
    first_question = pairs[0].question_start
    summary = " ".join(line for start, line in lines if start < first_question)
    return FaqDocument(doc_id=doc_id, summary=summary, pairs=tuple(pairs))
