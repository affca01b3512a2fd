"""Whether a sentence agrees with details of the question that word overlap cannot see.

- **Ordinals.** A question about the second round of talks is not answered by the sentence about the
  third, however close the two are in wording: the embeddings and BM25 see the same words either way.
  :func:`ordinals` reads a text's ordinals by rules; :func:`ordinal_agreement` compares a sentence's
  with the question's.
- **What is counted.** "How many prisoner exchanges ...?" is not answered by "1,200 Ukrainians", though
  both hold a number: :func:`counted_terms` reads the noun phrase a "how many" question counts, and
  :func:`counts_asked` tells whether a sentence puts a quantity (a number, or "several", "multiple" ...)
  right before it. :func:`counted_head` reads the noun it counts ("children" in "How many Ukrainian
  children ...?") and :func:`counted_words` the words a text counts anywhere, so that a question about
  something the articles mention but never count is known to be unanswered there.
- **Which day.** "Where will the leaders meet on January 6?" is not answered by the sentence about the
  January 3 meeting: :func:`conflicting_day` tells when a sentence names days of the month and none is
  the day the question names.
- **What the question defines.** "What is the main issue ...?" is answered by a sentence that says "The
  main issue is ...": :func:`asked_subject` reads the noun phrase a "what is the ...?" question asks to
  define, :func:`defines_subject` whether a sentence states it.
- **Who is speaking.** "Who mediated the exchanges?" is not answered by the person a sentence quotes
  ("According to Umerov, the framework was brokered with Turkish mediation"): :func:`reported_speaker`
  tells whether a name stands as the source of the sentence's words, :func:`asks_about_speech` whether the
  question asks who said something, when the source is the answer.
- **How precise a date.** "In what year ...?" wants a year, "What day of the week ...?" a weekday:
  :func:`date_granularity` reads which one a question asks for, :func:`has_granularity` whether a
  sentence holds one that the question did not already name.
"""

from __future__ import annotations

import re

__all__ = [
    "LAST",
    "asked_subject",
    "asks_about_speech",
    "conflicting_day",
    "counted_head",
    "counted_quantity",
    "counted_terms",
    "counted_words",
    "counts_asked",
    "counts_what_follows",
    "date_granularity",
    "days_of_month",
    "defines_subject",
    "granularity_span",
    "has_granularity",
    "numbered_members",
    "ordinal_agreement",
    "ordinals",
    "reported_speaker",
]

LAST = -1
"""The ordinal of "last"/"final": it agrees with "last" and conflicts with no numbered one."""

_NUMBERED = {
    "first": 1, "1st": 1, "opening": 1, "initial": 1, "inaugural": 1,
    "second": 2, "2nd": 2,
    "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5,
    "sixth": 6, "6th": 6,
    "seventh": 7, "7th": 7,
    "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9,
    "tenth": 10, "10th": 10,
}  # fmt: skip
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_LAST_WORDS = ("last", "final", "latest")

_ORDINAL = re.compile(r"\b(" + "|".join(map(re.escape, (*_NUMBERED, *_LAST_WORDS))) + r")\b")
# "the last of the three sessions" is the third; "last year"/"last week" is a date, not an ordinal.
_LAST_OF = re.compile(r"\b(?:last|final) of (?:the |these |those )?(" + "|".join(_COUNTS) + r"|\d+)\b")
_NOT_ORDINAL = re.compile(
    r"\b(?:last|latest|past) (?:year|week|month|night|summer|winter|spring|autumn|fall|weekend|decade)\b|"
    r"\bat (?:first|last)\b|\bfirst of all\b|\bfirst-?hand\b"
)


def ordinals(text: str) -> frozenset[int]:
    """The ordinals ``text`` names: 1 for "first"/"opening", 2 for "second", ..., :data:`LAST` for "last"."""
    lowered = _NOT_ORDINAL.sub(" ", text.casefold())
    found: set[int] = set()
    for match in _LAST_OF.finditer(lowered):
        count = match.group(1)
        found.add(int(count) if count.isdigit() else _COUNTS[count])
    lowered = _LAST_OF.sub(" ", lowered)
    for match in _ORDINAL.finditer(lowered):
        word = match.group(1)
        found.add(LAST if word in _LAST_WORDS else _NUMBERED[word])
    return frozenset(found)


def ordinal_agreement(asked: frozenset[int], text: str) -> float:
    """+1 when ``text`` names an ordinal the question asks about, −1 when it names only other numbered
    ones, 0 when the question names none or the text names none (or only "last", which may be any)."""
    if not asked:
        return 0.0
    found = ordinals(text)
    if asked & found:
        return 1.0
    if found - {LAST} and asked - {LAST}:
        return -1.0
    return 0.0


_NUMBERED_MEMBER = re.compile(r"\b(" + "|".join(map(re.escape, _NUMBERED)) + r")\s+(\w+)")


def numbered_members(text: str) -> frozenset[tuple[int, str]]:
    """The numbered members of a series ``text`` names, as (ordinal, noun): (2, "round") for "The second
    round, on June 2, ..."."""
    lowered = _NOT_ORDINAL.sub(" ", text.casefold())
    return frozenset((_NUMBERED[m.group(1)], m.group(2)) for m in _NUMBERED_MEMBER.finditer(lowered))


_HOW_MANY = re.compile(r"\bhow many\b((?:\s+[\w'’-]+){1,6})")
# Where the counted noun phrase of "how many ..." ends: the verb or a preposition starting a new phrase.
_PHRASE_END = frozenset(
    "have has had did does do were was are is could can will would should may might must be been "
    "in on at from to for by with during since between among under over per about".split()
)
_SKIPPED = frozenset("of the a an their its his her our your these those such".split())
_QUANTITY_WORD = (
    r"\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"hundreds|thousand|thousands|million|millions|billion|dozen|dozens|several|multiple|numerous|many|few|"
    r"scores"
)
_QUANTITY = re.compile(rf"\b(?:{_QUANTITY_WORD})\b((?:\W+\w+){{1,3}})", re.IGNORECASE)
_STEM = 5


def _stem(word: str) -> str:
    return word.casefold()[:_STEM]


def counted_terms(question: str) -> frozenset[str]:
    """Stems of the noun phrase a "how many ..." question counts ("prisoner exchanges" in "How many
    prisoner exchanges have occurred ...?"), or nothing for any other question."""
    match = _HOW_MANY.search(question.casefold())
    if match is None:
        return frozenset()
    terms = []
    for word in match.group(1).split():
        if word in _PHRASE_END:
            break
        if word not in _SKIPPED:
            terms.append(_stem(word))
    return frozenset(terms)


# Verbs that end the counted phrase without an auxiliary first ("How many Panthers went to ...?"); a word
# ending in "-ed" ends it too.
_PHRASE_VERBS = frozenset(
    "went won took made got saw came gave left ran lost held kept began became fought sent brought built paid "
    "sold told found met led live lives work works play plays attend attends".split()
)
_IRREGULAR_PLURALS = frozenset(
    "children people men women police staff personnel cattle feet teeth mice geese sheep deer fish aircraft "
    "crew clergy".split()
)
_NOT_PLURAL = frozenset("this thus has was does is us yes plus always perhaps across whereas".split())
_POSSESSIVE_END = re.compile(r"['’]s?$")
# Units are written in too many ways ("km", "sq mi", "a dozen times") to tell that a text never counts them.
_UNITS = frozenset(
    "times years months weeks days hours minutes seconds decades centuries miles kilometers kilometres km "
    "meters metres feet inches yards acres hectares degrees percent dollars euros pounds tons tonnes "
    "kilograms grams litres liters gallons points".split()
)


def _plural(word: str) -> bool:
    return word in _IRREGULAR_PLURALS or (
        len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word not in _NOT_PLURAL
    )


def counted_head(question: str) -> str | None:
    """The plural noun a "how many ...?" question counts: "children" in "How many Ukrainian children have
    been ...?", "bodies" in "How many bodies of fallen soldiers ...?". None for any other question, for a
    phrase without a plural noun (its head is unclear), and for units ("How many miles ...?")."""
    match = _HOW_MANY.search(question.casefold())
    if match is None:
        return None
    head = None
    for word in match.group(1).split():
        word = _POSSESSIVE_END.sub("", word)  # "police officers' unions" counts unions
        if word in _PHRASE_END or word == "of" or word in _PHRASE_VERBS or word.endswith("ed"):
            break
        if word not in _SKIPPED and _plural(word):
            head = word
    return None if head is None or head in _UNITS else head


# The words after a quantity, read ahead without consuming them: in "(21 to 11). Their 194 yards and 11 first
# downs" each number has its own four words.
_COUNTED_AHEAD = re.compile(rf"\b(?:{_QUANTITY_WORD})\b(?=((?:\W+\w+){{1,4}}))", re.IGNORECASE)


def counted_words(text: str) -> list[str]:
    """The words ``text`` may count: the up to four words after each quantity ("Ukrainians", "from",
    "Russian", "captivity" in "1,200 Ukrainians from Russian captivity"; "campuses" in "5 University of
    California campuses")."""
    return [word for match in _COUNTED_AHEAD.finditer(text) for word in re.findall(r"\w+", match.group(1))]


def counted_quantity(counted: frozenset[str], text: str) -> tuple[int, int] | None:
    """Where in ``text`` the first quantity stands within three words before a word of the counted
    phrase ("multiple" in "multiple prisoner exchanges"), as (start, end); None if nowhere."""
    if not counted:
        return None
    # Matched on the text itself (not a case-folded copy, whose length may differ) so the offsets hold.
    for match in _QUANTITY.finditer(text):
        if any(_stem(word) in counted for word in re.findall(r"\w+", match.group(1))):
            return match.start(), match.start(1)
    return None


def counts_what_follows(head: str, following: str) -> bool:
    """Whether one of the first three words of ``following`` (the text right after a number) is the noun
    a question counts (:func:`counted_head`): "28 minors" counts what "How many academic minors ...?"
    asks, "50 academic majors" does not."""
    return any(_stem(word) == _stem(head) for word in re.findall(r"\w+", following)[:3])


def counts_asked(counted: frozenset[str], text: str) -> float:
    """1.0 when ``text`` puts a quantity within three words before a word of the counted phrase
    ("multiple prisoner exchanges", "three rounds of talks"), else 0.0 (always 0.0 without ``counted``)."""
    return 0.0 if counted_quantity(counted, text) is None else 1.0


_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_GRANULARITY_ASKED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("weekday", re.compile(r"\b(?:what|which) day of the week\b")),
    ("year", re.compile(r"\b(?:what|which) year\b")),
    ("month", re.compile(r"\b(?:what|which) month\b")),
    ("decade", re.compile(r"\b(?:what|which) (?:decade|century)\b")),
)
# Case-insensitive: has_granularity reads case-folded text, granularity_span the text itself.
_GRANULARITY_FOUND: dict[str, re.Pattern[str]] = {
    "weekday": re.compile(rf"\b(?:{_WEEKDAYS})\b", re.I),
    "year": re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b"),
    "month": re.compile(rf"\b(?:{_MONTHS})\b", re.I),
    "decade": re.compile(
        r"\b(?:1[0-9]{2}0s|20[0-9]0s|\w+(?:th|st|nd|rd) century|(?:twen|thir|for|fif|six|seven|eigh|nine)ties)\b",
        re.I,
    ),
}


def date_granularity(question: str) -> str | None:
    """ "weekday", "year", "month" or "decade" when the question asks for a date that precise, else None."""
    lowered = question.casefold()
    return next((name for name, pattern in _GRANULARITY_ASKED if pattern.search(lowered)), None)


def has_granularity(granularity: str | None, text: str, asked: frozenset[str]) -> float:
    """1.0 when ``text`` holds a date of ``granularity`` that is not a word of the question, else 0.0."""
    if granularity is None:
        return 0.0
    found = (m.group(0) for m in _GRANULARITY_FOUND[granularity].finditer(text.casefold()))
    return 1.0 if any(word not in asked for word in found) else 0.0


def granularity_span(granularity: str, text: str) -> tuple[int, int] | None:
    """Where in ``text`` its first date of ``granularity`` stands ("2009" in "March 2009" for a year,
    "May" in "May of this year" for a month), as (start, end) offsets into ``text``; None if nowhere."""
    match = _GRANULARITY_FOUND[granularity].search(text)
    return None if match is None else (match.start(), match.end())


_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS.split("|"), start=1)}
_DAY_OF_MONTH = re.compile(
    rf"\b(?:({_MONTHS})\.? (\d{{1,2}})(?:st|nd|rd|th)?|(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTHS}))\b"
)


def days_of_month(text: str) -> frozenset[tuple[int, int]]:
    """The (month, day) dates ``text`` names ("January 6", "6 January", "the 6th of January")."""
    found = set()
    for match in _DAY_OF_MONTH.finditer(text.casefold()):
        month, day = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        if 1 <= int(day) <= 31:
            found.add((_MONTH_NUMBER[month], int(day)))
    return frozenset(found)


def conflicting_day(question: str, text: str) -> bool:
    """Whether ``text`` names days of the month but not the one the question names (False when either
    names none)."""
    asked = days_of_month(question)
    if not asked:
        return False
    found = days_of_month(text)
    return bool(found) and not found & asked


_ASKED_SUBJECT = re.compile(r"^(?:what|which) (?:is|was|are|were) the ([^,?;:]+)")
# Where the phrase asked about ends: a preposition or a clause ("the main issue according to ...").
_SUBJECT_END = frozenset(
    "of in on at for to from by with that which who whom according ahead during after before behind between "
    "among since when while as than this these those there here now currently".split()
)


def asked_subject(question: str) -> str | None:
    """The noun phrase a "What is the ...?" question asks to define ("main issue" in "What is the main
    issue, according to Zelensky, ...?"), or None for any other question."""
    match = _ASKED_SUBJECT.match(" ".join(question.casefold().split()))
    if match is None:
        return None
    words: list[str] = []
    for word in match.group(1).split():
        if word in _SUBJECT_END or not word.isalpha():
            break
        words.append(word)
    return " ".join(words) if 1 <= len(words) <= 3 else None


def defines_subject(subject: str, text: str) -> bool:
    """Whether ``text`` states the subject ("The main issue is security guarantees ...")."""
    return re.search(rf"\b{re.escape(subject)} (?:is|was|are|were)\b", text.casefold()) is not None


_SPEECH_VERBS = (
    r"say|says|said|saying|tell|tells|told|add|adds|added|note|notes|noted|state|states|stated|write|writes|wrote|"
    r"announce|announces|announced|claim|claims|claimed|argue|argues|argued|explain|explains|explained|"
    r"warn|warns|warned|insist|insists|insisted|confirm|confirms|confirmed|deny|denies|denied|"
    r"emphasi[sz]e|emphasi[sz]es|emphasi[sz]ed|stress|stresses|stressed|comment|comments|commented|"
    r"predict|predicts|predicted|declare|declares|declared|urge|urges|urged|tweet|tweets|tweeted|"
    r"report|reports|reported|quote|quotes|quoted|describe|describes|described|call|calls|called|"
    r"suggest|suggests|suggested|ask|asks|asked|reply|replies|replied|respond|responds|responded"
)
_ASKS_ABOUT_SPEECH = re.compile(rf"\b(?:{_SPEECH_VERBS}|according|quote|statement|remarks?|words|spokes\w*)\b", re.I)
# "said Umerov" quotes him; "told Umerov" speaks to him, so "told" is not read before a name.
_SOURCE_BEFORE = re.compile(r"\baccording to (?:[\w.’'-]+ ){0,4}$|\b(?:said|says|added|noted|wrote)\s*$", re.I)
_SOURCE_AFTER = re.compile(
    rf"^(?:’s? |'s? )?(?:,[^,]{{0,60}},)?\s*(?:has |had |also |later |then )?(?:{_SPEECH_VERBS})\b", re.I
)

_SELF_REPORT = re.compile(r"^\s*(?:that\s+|on \w+\s+)?(?:he|she|they|his|her|their|him|them|himself|herself)\b", re.I)


def asks_about_speech(question: str) -> bool:
    """Whether the question asks who said, wrote or announced something: then the quoted source is the answer."""
    return bool(_ASKS_ABOUT_SPEECH.search(question))


def reported_speaker(sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` names the source of the sentence's words ("according to Umerov",
    "Umerov said", "said Umerov"), not someone the sentence reports about."""
    if _SOURCE_BEFORE.search(sentence[:start]):
        return True
    verb = _SOURCE_AFTER.match(sentence[end:])
    # "Umerov said he had held consultations": the speaker is also who the reported clause is about.
    return verb is not None and not _SELF_REPORT.match(sentence[end + verb.end() :])
