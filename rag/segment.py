"""Rule-based sentence segmentation that keeps character offsets.

Built for news prose: quotes that end in ``,” he said.``, numbers such as ``1,200``,
initials and abbreviations (``U.S.``, ``Gen.``), dashes and headlines with no final period.
"""

from __future__ import annotations

import re

__all__ = ["looks_like_heading", "split_sentences"]

# Lower-cased, without the final period.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen col lt sgt capt cmdr adm maj gov sen rep pres st jr sr rev hon
    vs etc inc ltd co corp dept est fig no nos vol approx mt ft av ave blvd rd
    jan feb mar apr jun jul aug sep sept oct nov dec
    u.s u.k u.n e.u e.g i.e a.m p.m u.s.a d.c n.y l.a ph.d
    """.split()
)

# Words that start a new sentence even after an abbreviation such as "U.S.".
SENTENCE_STARTERS = frozenset(
    "The A An He She It They We I This That These Those But And In On At Yet However Meanwhile".split()
)

_TERMINATOR = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_OPENERS = "\"'“‘([«"
_NEXT_WORD = re.compile(r"[\w']+")


def _word_start(text: str, end: int) -> int:
    """Start of the run of word characters and periods that ends at ``end`` (``end`` if there is none)."""
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    return start


def _is_boundary(text: str, term_start: int, term_end: int, limit: int) -> bool:
    """Decide whether the terminator at ``text[term_start:term_end]`` ends a sentence (``text`` read up to ``limit``).

    Only the neighbourhood of the terminator is read, so a document is segmented in linear time."""
    following = term_end
    while following < limit and text[following].isspace():
        following += 1
    if following >= limit:
        return True
    nxt = text[following]
    if not (nxt.isupper() or nxt.isdigit() or nxt in _OPENERS):
        return False
    if text[term_start] != ".":
        return True
    word_start = _word_start(text, term_start)
    if word_start == term_start:
        return True
    word = text[word_start:term_start]
    lowered = word.lower().strip(".")
    next_word = _NEXT_WORD.match(text, following, limit)
    starts_sentence = bool(next_word and next_word.group(0) in SENTENCE_STARTERS)
    if len(word) == 1 and word.isalpha() and word.isupper():
        return starts_sentence  # an initial, as in "J. Smith"
    if lowered in ABBREVIATIONS:
        # Title-like abbreviations always bind to the next word; dotted ones ("U.S.") may end a sentence.
        return "." in lowered and starts_sentence
    if "." in word.strip(".") and all(len(p) <= 2 for p in word.strip(".").split(".")):
        return starts_sentence  # other dotted abbreviations, e.g. "N.A.T.O."
    return True


def split_sentences(
    text: str, start: int = 0, end: int | None = None, *, line_breaks: bool = True
) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentences; returns ``(start, end)`` offsets into ``text``.

    With ``line_breaks`` every line break ends a sentence; without, only a blank line does
    (soft-wrapped paragraphs). Each span is stripped of surrounding whitespace.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    line_pattern = _LINE if line_breaks else _PARAGRAPH
    for line in line_pattern.finditer(text, start, end):
        line_start, line_end = line.start(), line.end()
        cursor = line_start
        for term in _TERMINATOR.finditer(text, line_start, line_end):
            if _is_boundary(text, term.start(), term.end(), line_end):
                spans.append((cursor, term.end()))
                cursor = term.end()
        spans.append((cursor, line_end))
    return [s for s in (_strip(text, a, b) for a, b in spans) if s is not None]


_LINE = re.compile(r"[^\n]+")
_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?!\s*\n))+")


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def looks_like_heading(sentence: str) -> bool:
    """A short line with no final punctuation, such as a headline or sub-heading."""
    stripped = sentence.strip()
    return bool(stripped) and stripped[-1] not in '.!?…"”’:;' and len(stripped.split()) <= 16
