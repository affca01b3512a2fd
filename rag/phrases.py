"""Short answers read from a sentence's wording, where no tagged entity answers the question.

The small spaCy model tags names, dates and numbers; many answers are none of these. Each finder here takes
the question and one cited sentence and returns the offsets of the answer in the sentence, or None; the
composer (``rag.answer.AnswerComposer._untagged_answer``) tries them in turn, and every answer stays copied
text.

- **Who does what the question asks.** "Who inspects the building?" is answered by "the municipal building
  inspector" in "..., the municipal building inspector inspects the building ...": :func:`asked_predicate`
  reads the verb and the words after it that a "Who <verb> ...?" question asks about,
  :func:`predicate_subject` finds the phrase doing it.
- **Where it happens.** "Where did the troops remain stationed?" is answered by "the kingdom" in "the troops
  remained stationed in the kingdom": :func:`asked_place_words` reads the words of a "Where ...?" question,
  :func:`place_after_verb` the place a preposition puts right after one of them.
- **Asked in place.** "Comb-like bands of cilia are called what?": :func:`in_place_answer` finds the words
  the question leads up to ("... are called ctenes") and reads what stands where the question word stands.
- **A name given.** "What is the jelly-like layer called?": :func:`name_given` reads the words after
  "called" or "known as".
- **A kind.** "What type of regime ruled Sudan?": :func:`kind_modifier` reads the words qualifying the asked
  noun ("an Islamist regime").
- **What the thing is.** "What is a growing sport in the region?": :func:`copula_answer` reads the subject of
  "Rugby is also a growing sport ..." (or what follows "is" in "The largest feature is the aboral organ").
- **A year the tagger missed.** "c1750", "13,000 BP" and "1695–1696": :func:`written_year`.
"""

from __future__ import annotations

import re

from rag.answer_types import places_answer, question_words, repeats_question_word

__all__ = [
    "asked_place_words",
    "asked_predicate",
    "copula_answer",
    "in_place_answer",
    "kind_modifier",
    "name_given",
    "place_after_verb",
    "predicate_subject",
    "written_year",
]


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


def _clause_subject(sentence: str, words: list[re.Match[str]], position: int) -> tuple[int, int] | None:
    """The words before ``words[position]`` back to the start of their clause, if they can name a doer."""
    clause_start = 0
    for brk in _CLAUSE_BREAK.finditer(sentence, 0, words[position].start()):
        clause_start = brk.end()
    subject = [w for w in words[:position] if w.start() >= clause_start]
    if subject and subject[0].group(0).casefold() in {"and", "or"}:
        clause_start = _series_start(sentence, clause_start)
        subject = [w for w in words[:position] if w.start() >= clause_start]
    if not subject or len(subject) > MAX_SUBJECT_WORDS or subject[0].group(0).casefold() in _NOT_SUBJECT:
        return None
    if subject[-1].group(0).casefold() in _AUXILIARY_BEFORE:
        return None
    if subject[-1].group(0).casefold() in _FUNCTION_WORDS:
        return None
    return subject[0].start(), subject[-1].end()


def _words_after(sentence: str, words: list[re.Match[str]], index: int, stop: frozenset[str]) -> list[re.Match[str]]:
    """``words[index:]`` up to the first word in ``stop`` or the first clause break between two words."""
    phrase: list[re.Match[str]] = []
    for following in words[index:]:
        previous_end = phrase[-1].end() if phrase else (words[index - 1].end() if index else 0)
        if following.group(0).casefold() in stop or _CLAUSE_BREAK.search(sentence, previous_end, following.start()):
            break
        phrase.append(following)
    return phrase


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
        found = _clause_subject(sentence, words, position)
        if found is not None:
            return found
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
                phrase = _words_after(sentence, words, at + 1, _PLACE_END)
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
        phrase = _words_after(sentence, words, position + len(tail), _IN_PLACE_END)
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
    anchors = [m.start() for m in re.finditer(r"\w+", sentence) if places_answer(m.group(0), asked)]
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
    asked = question_words(question)
    words = list(re.finditer(r"[\w'’-]+", sentence))
    for given in _NAME_GIVEN.finditer(sentence):
        before = re.findall(r"\w+", sentence[: given.start()])[-_NAMED_REACH:]
        if not any(places_answer(w, asked) for w in before):
            continue  # another thing's name
        quoted = _QUOTED_NAME.match(sentence, given.end())
        if quoted is not None:
            name = quoted.group(1).rstrip(",.;: ")
            return quoted.start(1), quoted.start(1) + len(name)
        index = next((i for i, w in enumerate(words) if w.start() >= given.end()), len(words))
        phrase = _words_after(sentence, words, index, _NAME_END)
        if (
            1 <= len(phrase) <= MAX_IN_PLACE_WORDS
            and phrase[0].group(0).casefold() not in _FUNCTION_WORDS - {"the", "a", "an"}
            and phrase[-1].group(0).casefold() not in _FUNCTION_WORDS
        ):
            return phrase[0].start(), phrase[-1].end()
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
    return repeats_question_word(word, asked) or any(_same_verb(a, word) for a in asked)


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


_WHAT_IS = re.compile(r"^what (?:is|was|are|were) (?:the|a|an) ([^?]+?)\s*[?.!]*\s*$", re.I)
_COPULAS = frozenset("is are was were become became becomes remains remained".split())
_NOUN_PHRASE_END = frozenset("of in on at for to from by with that which who whom when where than".split())
_BETWEEN_COPULA_AND_NOUN = 4
_BEFORE_COPULA = frozenset("has have had also now still already".split())
# "The delta is delimited by ...": a passive, not what the thing is.
_PASSIVE_PARTICIPLE = re.compile(r"^[a-z]{3,}ed$")


def copula_answer(question: str, sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of what a "What is the X?" question asks for, where the sentence says it with
    "is": "Rugby" in "Rugby is also a growing sport ..." for "What is a growing sport ...?", or "the aboral
    organ" in "The largest single sensory feature is the aboral organ"; None for another question."""
    match = _WHAT_IS.match(" ".join(question.split()))
    if match is None:
        return None
    core: list[str] = []
    for word in re.findall(r"[\w'’-]+", match.group(1).casefold()):
        if word in _NOUN_PHRASE_END:
            break
        if word not in _FUNCTION_WORDS:
            core.append(word)
    if not core:
        return None
    first, head = core[0], core[-1]
    words = list(re.finditer(r"[\w'’-]+", sentence))
    folded = [w.group(0).casefold() for w in words]
    for position, word in enumerate(folded):
        if word not in _COPULAS or position == 0:
            continue
        # "X is (also) the growing sport": the subject before "is" answers.
        after = folded[position + 1 : position + 1 + _BETWEEN_COPULA_AND_NOUN + len(core)]
        if first in after and head in after[after.index(first) :]:
            verb = position
            while verb > 1 and folded[verb - 1] in _BEFORE_COPULA:
                verb -= 1  # "Co-teaching has also become ...": the subject ends before "has also"
            found = _clause_subject(sentence, words, verb)
            if found is not None:
                return found
        # "The largest single sensory feature is the aboral organ": what follows "is" answers.
        before = folded[max(0, position - _BETWEEN_COPULA_AND_NOUN - len(core)) : position]
        if before and _same_verb(head, before[-1]) and first in before:
            phrase = _words_after(sentence, words, position + 1, _IN_PLACE_END)
            if (
                1 <= len(phrase) <= MAX_IN_PLACE_WORDS
                and phrase[-1].group(0).casefold() not in _FUNCTION_WORDS
                and not _PASSIVE_PARTICIPLE.match(phrase[0].group(0))
            ):
                return phrase[0].start(), phrase[-1].end()
    return None
