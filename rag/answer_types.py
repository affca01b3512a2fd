"""What a question asks for, and whether a sentence holds an answer of that kind.

Questions are classified by rules on their wording (fast, per query); sentences carry entity
spans found at index time (:mod:`rag.entities`), so matching costs no model call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rag.entities import Entity
from rag.places import is_country

__all__ = [
    "FACILITY_NOUNS",
    "AnswerType",
    "TypedSpan",
    "answer_spans",
    "classify_question",
    "has_cue",
    "names_a_body",
    "names_the_asked_person",
    "places_answer",
    "question_words",
    "repeats_question_word",
]


class AnswerType(StrEnum):
    QUANTITY = "quantity"
    DATE = "date"
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    CITY = "city"
    """A place that is not a country ("Which city ...?", "In what town ...?")."""
    COUNTRY = "country"
    """A place asked for as a country ("Which country ...?"): a country's name answers before any other."""
    STATE = "state"
    """A place asked for as a state or province: a state's or a country's name answers before any other."""
    FACILITY = "facility"
    """A building or site ("Which stadium ...?"): a facility's name answers before the city it stands in."""
    DURATION = "duration"
    """A length of time or an age ("How long ...?", "How old ...?"): a date-like span such as "three years"
    answers, as does a number."""
    REASON = "reason"
    LIST = "list"
    YES_NO = "yes_no"
    ENTITY = "entity"
    """A named thing of no narrower type ("Which side ...?", "Which framework ...?")."""
    DESCRIPTION = "description"


# Entity labels (spaCy OntoNotes, plus the rule tagger's NAME) that answer each factoid type.
LABELS: dict[AnswerType, frozenset[str]] = {
    AnswerType.QUANTITY: frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    AnswerType.DATE: frozenset({"DATE", "TIME"}),
    # The small model tags some spans of time as MONEY ("more than 20 million years ago").
    AnswerType.DURATION: frozenset({"DATE", "TIME", "QUANTITY", "CARDINAL", "MONEY"}),
    # The small spaCy model often tags unfamiliar personal names as ORG, so a person may be either.
    AnswerType.PERSON: frozenset({"PERSON", "ORG", "NAME"}),
    AnswerType.ORGANISATION: frozenset({"ORG", "NORP", "NAME"}),
    AnswerType.PLACE: frozenset({"GPE", "LOC", "FAC", "NAME"}),
    AnswerType.CITY: frozenset({"GPE", "LOC", "FAC", "NAME"}),
    AnswerType.COUNTRY: frozenset({"GPE", "LOC", "NAME"}),
    AnswerType.STATE: frozenset({"GPE", "LOC", "NAME"}),
    AnswerType.FACILITY: frozenset({"FAC", "ORG", "GPE", "LOC", "NAME"}),
    AnswerType.ENTITY: frozenset(
        {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "LAW", "EVENT", "PRODUCT", "WORK_OF_ART", "LANGUAGE", "NAME"}
    ),
}
FACTOID = frozenset(LABELS)

_PERSON_NOUNS = (
    "person|people|man|woman|official|officials|president|minister|leader|spokesman|spokeswoman|spokesperson|"
    "commissioner|chief|head|director|general|commander|envoy|negotiator|ambassador|journalist|author|actor|"
    "actress|singer|player|coach|ceo|founder|chairman|secretary|senator|governor|mayor|king|queen|prince|"
    "judge|lawyer|scientist|artist|writer|member|representative|advisor|adviser|aide|politician|candidate|winner|"
    "novelist|poet|painter|composer|architect|inventor|physicist|chemist|philosopher|historian|economist|explorer|"
    "emperor|pope|bishop|priest|saint|monarch|ruler|skateboarder|athlete|musician|mathematician|astronomer"
)
_ORG_NOUNS = (
    "organi[sz]ation|company|agency|group|party|team|firm|institution|body|union|bank|network|"
    "newspaper|university|ministry|department|committee|council|association|club|brand|airline|court|"
    "outlet|platform|alliance|media|channel|broadcaster|website|bloc"
)
FACILITY_NOUNS = (
    "stadium|arena|airport|bridge|building|hotel|museum|theatre|theater|hospital|cathedral|palace|prison|"
    "tower|station|monument|temple|mosque|castle|hall|venue"
)
_PLACE_NOUNS = (
    "country|countries|city|cities|town|region|state|province|place|nation|capital|island|continent|"
    "location|venue|village|district|territory|site|area|port|border"
)
_QUANTITY_WORDS = r"how (?:many|much|far|large|big|high|often)|what (?:number|percentage|share|amount|proportion)"
# "What is the population of ...?", "What was the list price ...?": a measure, answered by a number.
_MEASURE_ASKED = (
    r"\bwhat (?:is|was|are|were|will be) (?:the |its |their |his |her )?(?:\w+ )?"
    r"(?:price|cost|population|budget|salary|revenue|fee|fine|height|length|width|depth|weight|distance|"
    r"speed|temperature|capacity|area|size|rate)s?\b"
)

_RULES: tuple[tuple[re.Pattern[str], AnswerType], ...] = (
    (
        re.compile(r"\bwhy\b|\bwhat (?:is|was|are|were) the (?:reason|cause|purpose)|\bfor what (?:reason|purpose)"),
        AnswerType.REASON,
    ),
    (re.compile(r"\bhow (?:long|old)\b"), AnswerType.DURATION),
    (re.compile(rf"\b(?:{_QUANTITY_WORDS})\b|\bwhat age\b|{_MEASURE_ASKED}"), AnswerType.QUANTITY),
    (
        re.compile(
            r"\bwhen\b|\bwhat (?:year|date|day|month|time|decade|century)\b|\bon which (?:date|day)\b|"
            r"\bwhich (?:year|date|day|month)\b|\bhow soon\b|\bwhat (?:is|was) the (?:date|day|year|deadline)\b"
        ),
        AnswerType.DATE,
    ),
    (
        re.compile(
            r"\b(?:which|what) (?:are |were )?(?:the )?(?:\w+ )?"
            r"(?:categories|groups|types|kinds|steps|conditions|measures|challenges|problems|issues|topics|"
            # Kinds of things, answered by common nouns ("in the air, on land, and at sea"), not by names.
            r"domains|fields|sectors|spheres|aspects|factors|methods|ways|forms)\b|"
            r"\b(?:list|name) (?:the|all)\b"
        ),
        AnswerType.LIST,
    ),
    (re.compile(r"\b(?:which|what) (?:\w+ )?(?:city|cities|town|towns|village|villages)\b"), AnswerType.CITY),
    (re.compile(r"\b(?:which|what) (?:\w+ )?(?:country|countries|nation)\b"), AnswerType.COUNTRY),
    (re.compile(r"\b(?:which|what) (?:\w+ )?(?:state|states|province)\b"), AnswerType.STATE),
    (re.compile(rf"\b(?:which|what) (?:\w+ )?(?:{FACILITY_NOUNS})s?\b"), AnswerType.FACILITY),
    (re.compile(rf"\bwhere\b|\b(?:which|what) (?:\w+ )?(?:{_PLACE_NOUNS})\b"), AnswerType.PLACE),
    (re.compile(rf"\b(?:which|what) (?:\w+ )?(?:{_ORG_NOUNS})\b"), AnswerType.ORGANISATION),
    (
        re.compile(
            rf"\bwho\b|\bwhom\b|\bwhose\b|\b(?:which|what) (?:\w+ )?(?:{_PERSON_NOUNS})\b|"
            rf"\bwhich (?:[\w']+ ){{2}}(?:{_PERSON_NOUNS})\b|\bwhat is the name\b"
        ),
        AnswerType.PERSON,
    ),
    (
        re.compile(r"^(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|might)\b"),
        AnswerType.YES_NO,
    ),
    # Last, so that any narrower "which ..." rule matching at the same place wins.
    (re.compile(r"\bwhich (?!(?:of|one|ones|is|are|was|were)\b)\w+"), AnswerType.ENTITY),
    # A "what" or "which" no rule above types asks for a description: a later "when", "where" or "who" only opens
    # a clause ("What did the Church do when Luther refused ...?", "What was the first Doctor Who show ...?").
    (re.compile(r"\b(?:what|which)\b"), AnswerType.DESCRIPTION),
)

_REASON_CUES = re.compile(
    r"\b(?:because|due to|since|as a result|in order to|so that|owing to|given that|aims? to|"
    r"intended to|so as to|reason|thanks to|after|amid|to (?:ensure|avoid|prevent|secure|protect))\b",
    re.I,
)
_LIST_CUES = re.compile(r"(?:\b(?:includ(?:e|es|ed|ing)|such as|namely|among them|as well as)\b|:|—|;|, and\b)", re.I)
_NUMBER = re.compile(r"\d")
_AMOUNT = re.compile(
    r"\d|\b(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?|millions?|several|few|many|half)\b",
    re.I,
)
_ORGANISATION_WORDS = re.compile(
    rf"\b(?:{_ORG_NOUNS}|office|government|parliament|assembly|commission|security|intelligence)\b", re.I
)


# "What is the name of the desert ...?" asks what "Which desert ...?" asks; the noun after it says for what kind.
_NAME_OF = re.compile(
    r"\bwhat (?:is|was|are|were) the (?:\w+ )?names? (?:of|for|given to|associated with) (?:the |a |an )?"
)


# "When a plant is injured, what can become ...?": an opening clause sets the scene; the question follows it.
_OPENING_CLAUSE = re.compile(
    r"^(?:when|whenever|if|while|once|after|before|although|since)\b[^,?]*,\s*"
    r"(?=(?:what|which|who|whom|whose|how|why|where|in what|in which)\b)"
)


def classify_question(question: str) -> AnswerType:
    """The kind of answer ``question`` asks for, by rules on its wording: the rule that matches
    earliest in the question wins ("Who ... when ...?" asks for a person), ties by rule order."""
    text = _OPENING_CLAUSE.sub("", " ".join(question.casefold().split()))
    text = _NAME_OF.sub("which ", text)
    found = [(m.start(), order, t) for order, (p, t) in enumerate(_RULES) if (m := p.search(text)) is not None]
    return min(found)[2] if found else AnswerType.DESCRIPTION


def question_words(question: str) -> frozenset[str]:
    """Lower-cased word forms of the question, to tell an answer from a repeat of the question."""
    return frozenset(w.casefold() for w in re.findall(r"\w+", question))


@dataclass(frozen=True)
class TypedSpan:
    """An entity of the asked-for type that is not just a word of the question."""

    start: int
    end: int
    label: str


def repeats_question_word(word: str, asked: frozenset[str]) -> bool:
    """Whether ``word`` repeats a question word, also as another form of it ("Ukraine" for "Ukrainian")."""
    if word in asked:
        return True
    return len(word) >= 5 and any(len(a) >= 5 and a[:5] == word[:5] for a in asked)


def _novel(text: str, asked: frozenset[str]) -> bool:
    words = [w.casefold() for w in re.findall(r"\w+", text)]
    return bool(words) and not all(repeats_question_word(w, asked) for w in words)


def places_answer(word: str, asked: frozenset[str]) -> bool:
    """Whether a word of the text is a word of the question that can place a short answer: longer than three
    letters, so not "the", "did" or "was"."""
    return len(word) > 3 and word.casefold() in asked


def answer_spans(
    answer_type: AnswerType, entities: Sequence[Entity], document_text: str, asked: frozenset[str]
) -> list[TypedSpan]:
    """Entities (document offsets) of ``answer_type`` that add something the question did not say."""
    labels = LABELS.get(answer_type)
    if labels is None:
        return []
    spans = []
    for entity in entities:
        if entity.label not in labels:
            continue
        text = document_text[entity.start : entity.end]
        if answer_type is AnswerType.QUANTITY and not _NUMBER.search(text) and text.casefold() in {"one", "a", "an"}:
            continue  # "one" is rarely the count asked for
        if answer_type is AnswerType.DURATION and not _AMOUNT.search(text):
            continue  # "annual", "today": a date, but no length of time
        if answer_type is AnswerType.CITY and is_country(text):
            continue  # a country is never the city asked for
        if _novel(text, asked):
            spans.append(TypedSpan(entity.start, entity.end, entity.label))
    return spans


def names_a_body(label: str, text: str) -> bool:
    """Whether an entity the tagger did not call a person reads as a body, not a person ("the National
    Security Council"): a "who" question's short answer prefers a person when the span has both."""
    return label != "PERSON" and bool(_ORGANISATION_WORDS.search(text))


def names_the_asked_person(text: str, question: str) -> bool:
    """Whether an entity is the person the question itself names, so not who it asks about: "Rustem
    Umerov" for "... the chief Umerov met" or "Volodymyr Zelenskyy" for "Who did Zelenskyy meet?" (the
    surname is the question's, with no other first name before it); "Nicolas Chopin" is not "Frédéric
    Chopin", and "David G. Booth" is not the "Booth School of Business" a question names."""
    words = re.findall(r"\w+", text)
    if not words or len(words[-1]) < 4:
        return False
    surname = words[-1].casefold()
    named = re.findall(r"\w+", question)
    for position, word in enumerate(named):
        if word.casefold() != surname:
            continue
        before = named[position - 1] if position else ""
        after = named[position + 1] if position + 1 < len(named) else ""
        if after[:1].isupper():
            continue  # part of a longer name: "Booth" in "the Booth School of Business" is not David Booth
        if not before[:1].isupper() or before in words:
            return True
    return False


def has_cue(answer_type: AnswerType, text: str) -> bool:
    """Whether ``text`` has the wording a reason or list answer usually has."""
    if answer_type is AnswerType.REASON:
        return bool(_REASON_CUES.search(text))
    if answer_type is AnswerType.LIST:
        return bool(_LIST_CUES.search(text))
    return False
