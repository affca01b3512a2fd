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
- **Who does what the question asks.** "Who inspects the building?" is answered by "the municipal building
  inspector" in "..., the municipal building inspector inspects the building ...", though no name is there:
  :func:`asked_predicate` reads the verb and the words after it that a "Who <verb> ...?" question asks
  about, :func:`predicate_subject` finds the phrase doing it in a sentence. "Where are the troops
  stationed?" is answered by "the kingdom" in "the troops remained stationed in the kingdom":
  :func:`asked_place_words` reads the words of a "Where ...?" question, :func:`place_after_verb` the
  place a preposition puts right after one of them in a sentence. "Comb-like bands of cilia are called
  what?" asks in place: :func:`in_place_answer` finds the words the question leads up to in a sentence
  ("... are called ctenes") and reads what stands where the question word stands.
- **A year the tagger missed.** "c1750", "13,000 BP" and "1695–1696" are years the small tagger leaves
  untagged: :func:`written_year` finds one in a sentence.
- **How precise a date.** "In what year ...?" wants a year, "What day of the week ...?" a weekday:
  :func:`date_granularity` reads which one a question asks for, :func:`has_granularity` whether a
  sentence holds one that the question did not already name.
"""

from __future__ import annotations

import re

__all__ = [
    "LAST",
    "asked_place_words",
    "asked_predicate",
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
    "in_place_answer",
    "kind_modifier",
    "name_given",
    "numbered_members",
    "ordinal_agreement",
    "ordinals",
    "place_after_verb",
    "predicate_subject",
    "reported_speaker",
    "written_year",
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


# "Who <verb> ...?", after an optional opening phrase ("In most contracts, who acts as ...?").
_WHO_DOES = re.compile(r"^(?:[^,?]*,\s*)?who\s+([a-z]+)\b([^?]*)")
# Auxiliaries and copulas: "Who is ...?", "Who did Tesla refuse ...?" ask about something other than a doer.
_NOT_ACTION = frozenset(
    "is are was were be been being do does did will would can could should shall may might must".split()
)
_FUNCTION_WORDS = frozenset(
    "a an the of in on at to for from by with as and or but not no its it their his her this that these those "
    "into onto over under than then so such also".split()
)
_CLAUSE_BREAK = re.compile(r"[,;:()\u2014\u2013\"\u201c\u201d]|\s-\s")
_NOT_SUBJECT = frozenset("he she they it this that these those we i you who which what there here one".split())
MAX_SUBJECT_WORDS = 10
_PREDICATE_REACH = 6


def asked_predicate(question: str) -> tuple[str, tuple[str, ...]] | None:
    """The verb a "Who <verb> ...?" question asks about and the content words that follow it ("acts",
    ("project", "coordinator") in "Who acts as the project coordinator?"), or None for another question."""
    match = _WHO_DOES.match(" ".join(question.casefold().split()))
    if match is None or match.group(1) in _NOT_ACTION:
        return None
    following = tuple(w for w in re.findall(r"[a-z0-9]+", match.group(2)) if w not in _FUNCTION_WORDS)
    return match.group(1), following


_VERB_ENDINGS = frozenset({"", "s", "es", "d", "ed", "ing", "ies", "y", "e"})
# An auxiliary before the verb makes the words before it not its doer ("Equilibrium was first described").
_AUXILIARY_BEFORE = _NOT_ACTION | {"has", "have", "had", "to"}
_SERIES_ITEM_WORDS = 4


def _same_verb(asked: str, word: str) -> bool:
    """Whether two words are forms of one verb ("applies" and "apply", "acts" and "act"; not "inspects"
    and "inspector")."""
    common = 0
    for a, b in zip(asked, word, strict=False):
        if a != b:
            break
        common += 1
    return common >= 3 and asked[common:] in _VERB_ENDINGS and word[common:] in _VERB_ENDINGS


def _series_start(sentence: str, clause_start: int) -> int:
    """Where a series ending at ``clause_start`` ("Opposition politicians, human rights groups, and ...")
    begins: back over the short comma-separated items before it."""
    start = clause_start
    while start > 0 and sentence[start - 1] == ",":
        item_start = sentence.rfind(",", 0, start - 1) + 1
        item = sentence[item_start : start - 1]
        if _CLAUSE_BREAK.search(item) or len(item.split()) > _SERIES_ITEM_WORDS:
            break
        start = item_start
    return start


def predicate_subject(predicate: tuple[str, tuple[str, ...]], sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the phrase that does what the question asks: the words before the asked
    verb, back to the start of its clause, when the question's next content word follows the verb within a
    few words ("the owner of the property" in "Often, the owner of the property acts as laborer ...").
    None when no clause of the sentence states it, or its subject is a pronoun or too long to be a name."""
    verb, following = predicate
    words = list(re.finditer(r"[\w'’-]+", sentence))
    for position, word in enumerate(words):
        if position == 0 or not _same_verb(verb, word.group(0).casefold()):
            continue
        after = {w.group(0).casefold() for w in words[position + 1 : position + 1 + _PREDICATE_REACH]}
        if following and following[0] not in after:
            continue
        clause_start = 0
        for brk in _CLAUSE_BREAK.finditer(sentence, 0, word.start()):
            clause_start = brk.end()
        subject = [w for w in words[:position] if w.start() >= clause_start]
        if subject and subject[0].group(0).casefold() in {"and", "or"}:
            clause_start = _series_start(sentence, clause_start)
            subject = [w for w in words[:position] if w.start() >= clause_start]
        if not subject or len(subject) > MAX_SUBJECT_WORDS or subject[0].group(0).casefold() in _NOT_SUBJECT:
            continue
        if subject[-1].group(0).casefold() in _AUXILIARY_BEFORE:
            continue
        if len(subject) == 1 and subject[0].group(0).casefold() in _FUNCTION_WORDS:
            continue
        return subject[0].start(), subject[-1].end()
    return None


_WHERE_DOES = re.compile(
    r"^(?:[^,?]*,\s*)?where\s+(?:is|are|was|were|do|does|did|can|could|will|would|has|have|had|should|may|might)"
    r"\s+([^?]+)"
)
_PLACE_PREPOSITIONS = frozenset("in at on to into from near inside within onto throughout across beneath along".split())
_PLACE_REACH = 3
_PLACE_END = (
    frozenset(
        "which that who whom whose where when while but as since because after before during until unless so "
        "and or than with by for of to".split()
    )
    | _PLACE_PREPOSITIONS
)
MAX_PLACE_WORDS = 6


def asked_place_words(question: str) -> tuple[str, ...] | None:
    """The content words of a "Where <auxiliary> ...?" question, in order ("american", "troops", "remain",
    "stationed") for "Where did American troops remain stationed?"; None for another question."""
    match = _WHERE_DOES.match(" ".join(question.casefold().split()))
    if match is None:
        return None
    return tuple(w for w in re.findall(r"[a-z0-9]+", match.group(1)) if w not in _FUNCTION_WORDS)


def place_after_verb(asked: tuple[str, ...], sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the place a preposition puts right after a word of the question ("the
    kingdom" in "... remained stationed in the kingdom, ..."), the question's later words tried first (its
    verb stands after its subject, though a noun of it may place the answer too); None when no such phrase
    is there."""
    words = list(re.finditer(r"[\w'’-]+", sentence))
    for verb in reversed(asked):
        for position, word in enumerate(words):
            if not _same_verb(verb, word.group(0).casefold()):
                continue
            for at in range(position + 1, min(position + 1 + _PLACE_REACH, len(words))):
                if words[at].group(0).casefold() not in _PLACE_PREPOSITIONS:
                    continue
                if _CLAUSE_BREAK.search(sentence, word.end(), words[at].start()):
                    break
                phrase: list[re.Match[str]] = []
                for following in words[at + 1 :]:
                    if following.group(0).casefold() in _PLACE_END or _CLAUSE_BREAK.search(
                        sentence, (phrase[-1] if phrase else words[at]).end(), following.start()
                    ):
                        break
                    phrase.append(following)
                if (
                    1 <= len(phrase) <= MAX_PLACE_WORDS
                    and phrase[0].group(0).casefold() not in _NOT_SUBJECT
                    and phrase[-1].group(0).casefold() not in _FUNCTION_WORDS
                ):
                    return phrase[0].start(), phrase[-1].end()
                break
    return None


# A question word standing where its answer would ("... are called what?", "... benefit whom?"), at the end.
_IN_PLACE = re.compile(r"^(?P<lead>.*\w)[\s,]+(?:what|whom|who)\s*[?.!]*\s*$", re.I)
_IN_PLACE_LEAD_WORDS = 2
_IN_PLACE_END = frozenset("which that who whom whose where when while because since although but whereas".split())
MAX_IN_PLACE_WORDS = 8


def in_place_answer(question: str, sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the answer to a question that ends with its question word ("The largest
    projects are known as what?"): the words after the question's last two words ("known as") up to a
    clause break ("megaprojects"); None when the question does not ask in place or the sentence does not say
    it so."""
    match = _IN_PLACE.match(" ".join(question.split()))
    if match is None:
        return None
    lead = [w.casefold() for w in re.findall(r"[\w'’-]+", match.group("lead"))]
    if len(lead) < _IN_PLACE_LEAD_WORDS + 1:
        return None
    tail = lead[-_IN_PLACE_LEAD_WORDS:]
    words = list(re.finditer(r"[\w'’-]+", sentence))
    folded = [w.group(0).casefold() for w in words]
    for position in range(len(words) - len(tail)):
        if not all(_same_verb(t, folded[position + i]) or t == folded[position + i] for i, t in enumerate(tail)):
            continue
        end_of_lead = words[position + len(tail) - 1].end()
        phrase: list[re.Match[str]] = []
        for following in words[position + len(tail) :]:
            if following.group(0).casefold() in _IN_PLACE_END or _CLAUSE_BREAK.search(
                sentence, (phrase[-1] if phrase else words[position + len(tail) - 1]).end(), following.start()
            ):
                break
            phrase.append(following)
        if _CLAUSE_BREAK.search(sentence, end_of_lead, phrase[0].start() if phrase else end_of_lead):
            continue
        if (
            1 <= len(phrase) <= MAX_IN_PLACE_WORDS
            and phrase[-1].group(0).casefold() not in _FUNCTION_WORDS
            and phrase[0].group(0).casefold() not in _NOT_SUBJECT
        ):
            return phrase[0].start(), phrase[-1].end()
    return None


# Years the small tagger leaves untagged: circa years, years before the present or an era, spans of years.
_WRITTEN_YEAR = re.compile(r"\bc\.?\s?\d{3,4}\b|\b\d{1,3}(?:,\d{3})*\s?(?:BP|BC|BCE)\b|\b1\d{3}\s?[–-]\s?1\d{3}\b")


def written_year(sentence: str, asked: frozenset[str]) -> tuple[int, int] | None:
    """Offsets of a year written the way the small tagger misses ("c1750", "13,000 BP", "1695–1696") that the
    question did not name; of several, the one nearest a word of the question longer than three letters."""
    years = [m for m in _WRITTEN_YEAR.finditer(sentence) if m.group(0).casefold() not in asked]
    if not years:
        return None
    anchors = [
        m.start() for m in re.finditer(r"\w+", sentence) if len(m.group(0)) > 3 and m.group(0).casefold() in asked
    ]
    year = min(years, key=lambda m: min((abs(m.start() - a) for a in anchors), default=0))
    return year.start(), year.end()


_ASKS_NAME_GIVEN = re.compile(
    r"^(?:what|which [\w-]+) (?:is|are|was|were) .+? (?:called|known as|named|termed|referred to as)\s*[?.!]*\s*$",
    re.I,
)
_NAME_GIVEN = re.compile(r"\b(?:called|known as|named|termed|referred to as)\s+", re.I)
_NAME_END = _IN_PLACE_END | (_PLACE_PREPOSITIONS - {"of"})
_NAMED_REACH = 8
_QUOTED_NAME = re.compile(r"[\"“']([^\"”']{1,80})[\"”']")


def name_given(question: str, sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the name a "What is X called?" ("... known as?", "... named?") question asks
    for: the words after "called" or "known as" there ("the mesoglea" in "a jelly-like layer, called the
    mesoglea, ..."), or a name in quotes right after them; None for another question."""
    if _ASKS_NAME_GIVEN.match(" ".join(question.split())) is None:
        return None
    asked = {w.casefold() for w in re.findall(r"\w+", question) if len(w) > 3}
    for given in _NAME_GIVEN.finditer(sentence):
        before = re.findall(r"\w+", sentence[: given.start()])[-_NAMED_REACH:]
        if not any(w.casefold() in asked for w in before):
            continue  # another thing's name
        quoted = _QUOTED_NAME.match(sentence, given.end())
        if quoted is not None:
            name = quoted.group(1).rstrip(",.;: ")
            return quoted.start(1), quoted.start(1) + len(name)
        phrase: list[re.Match[str]] = []
        for following in re.finditer(r"[\w'’-]+", sentence[given.end() :]):
            at = given.end() + following.start()
            if following.group(0).casefold() in _NAME_END or _CLAUSE_BREAK.search(
                sentence, given.end() + (phrase[-1].end() if phrase else 0), at
            ):
                break
            phrase.append(following)
        if (
            1 <= len(phrase) <= MAX_IN_PLACE_WORDS
            and phrase[0].group(0).casefold() not in _FUNCTION_WORDS - {"the", "a", "an"}
            and phrase[-1].group(0).casefold() not in _FUNCTION_WORDS
        ):
            return given.end() + phrase[0].start(), given.end() + phrase[-1].end()
    return None


_KIND_ASKED = re.compile(r"\bwhat (?:types?|kinds?|sorts?|class(?:es)?|forms?) of ([\w-]+)", re.I)
_MODIFIER_BREAK = re.compile(r"[,;:()\u2014\u2013]|\s-\s")
# Words that end the run of a noun's qualifiers: function words, auxiliaries, prepositions, quantities and
# ordinals ("three membranes", "the first organisms"), and words that only grade ("many", "especially").
_MODIFIER_STOP = (
    _FUNCTION_WORDS
    | _NOT_ACTION
    | _PLACE_PREPOSITIONS
    | frozenset(
        "has have had through among like via about against between during many much most more some several "
        "other such each every all both first second third last one two three four five six seven eight nine ten "
        "very".split()
    )
)
MAX_MODIFIER_WORDS = 4


def _asked_form(word: str, asked: frozenset[str]) -> bool:
    """Whether ``word`` is a form of a question word ("continuous" of "continuously", "produced" of "produce")."""
    return any(a == word or _same_verb(a, word) or (len(a) >= 5 and a[:5] == word[:5]) for a in asked)


def kind_modifier(question: str, sentence: str, asked: frozenset[str]) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the kind a "What type of X ...?" question asks for: the words right before
    X there ("rotary" in "a steam engine that produced continuous rotary motion" for "What sort of motion did
    it continuously produce?"), back to a function word or a word of the question; None for another
    question or when nothing qualifies X."""
    match = _KIND_ASKED.search(question)
    if match is None:
        return None
    head = match.group(1).casefold()
    words = list(re.finditer(r"[\w'’-]+", sentence))
    for position, word in enumerate(words):
        if position == 0 or not _same_verb(head, word.group(0).casefold()):
            continue
        modifier: list[re.Match[str]] = []
        for previous in reversed(words[:position]):
            folded = previous.group(0).casefold()
            following = modifier[0] if modifier else word
            if _MODIFIER_BREAK.search(sentence, previous.end(), following.start()):
                break
            if (
                folded in _MODIFIER_STOP
                or folded.endswith("ly")
                or folded[:1].isdigit()
                or _asked_form(folded, asked)
                or len(modifier) >= MAX_MODIFIER_WORDS
            ):
                break
            modifier.insert(0, previous)
        if modifier:
            return modifier[0].start(), modifier[-1].end()
    return None
