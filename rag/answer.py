"""Compose an extractive answer from ranked sentences: relevant, not redundant, cited."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal

import numpy as np

from rag.agreement import (
    LAST,
    asked_subject,
    asks_about_speech,
    conflicting_day,
    counted_head,
    counted_quantity,
    counted_terms,
    counts_what_follows,
    date_granularity,
    defines_subject,
    granularity_span,
    has_granularity,
    numbered_members,
    ordinals,
    reported_speaker,
)
from rag.answer_types import (
    FACILITY_NOUNS,
    FACTOID,
    AnswerType,
    TypedSpan,
    answer_spans,
    classify_question,
    has_cue,
    names_a_body,
    names_the_asked_person,
    places_answer,
    question_words,
)
from rag.answerability import AnswerabilityModel, question_features
from rag.entities import Entity
from rag.phrases import (
    asked_place_words,
    asked_predicate,
    copula_answer,
    in_place_answer,
    kind_modifier,
    name_given,
    place_after_verb,
    predicate_subject,
    written_year,
)
from rag.places import is_country, is_state
from rag.retrieval import QuestionCoverage, ScoredSentence
from rag.store import IndexStore

__all__ = [
    "ABSTAIN_MESSAGE",
    "DEFAULT_ABSTAIN_THRESHOLD",
    "MAX_ANSWER_SENTENCES",
    "SEED_PASSAGES",
    "Answer",
    "AnswerComposer",
    "AnswerSentence",
    "Citation",
    "ComposerParams",
    "ShortAnswer",
    "Support",
    "coordinated_span",
    "lacks_typed_answer",
    "largest_idf",
    "lexical_saturation",
]

Support = Literal["answer", "partial", "none"]

ABSTAIN_MESSAGE = "The articles do not answer this question."
MAX_ANSWER_SENTENCES = 10
# From the `rag eval` sweep on tests/data/dev_gold.jsonl: the best balanced abstention accuracy that abstains
# on at most 5 % of the answerable questions, with the FAQ's broad questions still answered (docs/benchmarks.md).
DEFAULT_ABSTAIN_THRESHOLD = 0.30
# Chosen by benchmarks/fit_reranker.py on the held-out articles of its fitting data (never the dev set) and
# recorded in the adapter's metadata: the best balanced accuracy between answerable questions and the same
# questions with their answer taken out, and the highest that abstains on at most 5 % of answerable ones.
DEFAULT_RERANK_ANSWER_THRESHOLD = 0.18
DEFAULT_RERANK_PARTIAL_THRESHOLD = 0.0


@dataclass(frozen=True)
class Citation:
    id: int
    doc_id: str
    title: str
    source: str | None
    url: str | None
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class ShortAnswer:
    """The entity, number or date inside the first cited span that answers a factoid question."""

    text: str
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    confidence: float
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    debug: dict[str, float] = field(default_factory=dict, compare=False)
    short_answer: ShortAnswer | None = None
    answer_type: str = AnswerType.DESCRIPTION.value
    support: Support = "none"
    """``answer`` (confident), ``partial`` (on topic, weaker evidence) or ``none`` (abstained)."""
    quoted_source_only: bool = False
    """A "who" question whose first span names no one but the source it quotes: it gets no short answer,
    and is not abstained on for want of one (the span may still answer, as "brokered with Turkish mediation")."""


SEED_PASSAGES = 39
"""Passages of the seed index, on which the confidence's constants were chosen."""


@dataclass(frozen=True)
class ComposerParams:
    max_sentences: int = 3
    mmr_lambda: float = 0.7
    relative_cutoff: float = 0.3
    """A sentence after the first is kept only if its score is at least this share of the best."""
    duplicate_similarity: float = 0.9
    """Sentences at least this similar (cosine) say the same thing: shown once, all cited."""
    abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD
    confidence_dense_weight: float = 0.1
    confidence_rerank_weight: float = 1.0
    """With the reranker: the confidence is ``blend + weight * reranked * (1 - blend)``, where ``reranked`` is
    the best sentence's reranked score (1: a noisy-or of the two, either can vouch for the answer; 0: the
    blend alone)."""
    lexical_saturation: float = 6.0
    """BM25 score at which the lexical half of the confidence reaches 0.5 (in a corpus of
    ``lexical_saturation_passages`` passages, when that is set)."""
    lexical_saturation_passages: int = SEED_PASSAGES
    """The corpus size, in passages, at which ``lexical_saturation`` holds as given (the seeds', where it was
    chosen); in a corpus of N passages it is scaled by BM25's largest IDF at N over that at this size, because a
    rare term's IDF, and with it the same partial match's score, grows with the log of the corpus. 0: the
    saturation is the same at every size."""
    confidence_evidence_sentences: int = 2
    """How many of the best sentences' passages the confidence reads its BM25 evidence from."""
    partial_threshold: float = 0.25
    """Below ``abstain_threshold`` but at least this confident, a question whose subject the articles
    cover gets a partial answer; below it, the service abstains."""
    min_named_coverage: float = 0.5
    """Share of the question's names and numbers that must occur in the articles, or it abstains."""
    min_candidate_named: float = 0.5
    """Share of the question's names and numbers that must occur in the best candidate sentences (or their
    titles), or it abstains: in a large corpus the names are somewhere, but not where the answer was sought."""
    min_term_coverage: float = 0.3
    """IDF-weighted share of the question's terms that must occur in the articles for a partial answer."""
    abstain_uncounted: bool = True
    """Abstain on "How many X ...?" when the articles mention X but never count it."""
    require_answer_type: bool = True
    """A factoid question (how many, when, who, where, which organisation) is answered only when the
    first cited span holds an entity of that type; otherwise the service abstains rather than show a
    sentence that cannot be the answer."""
    complete_span: bool = True
    """Cite a sentence together with the neighbour that completes it (a back-reference, "This includes ...")."""
    type_window: int = 3
    """For a factoid question, the best of this many top sentences that holds an answer of the asked-for
    type is cited first (1: keep the ranker's order) ..."""
    type_min_share: float = 0.0
    """... if its score is at least this share of the best sentence's."""
    rerank_confidence: bool = False
    """With the cross-encoder reranker, read the confidence from its best probability (otherwise the
    reranker only re-orders the sentences and the confidence stays the cosine + BM25 blend) ..."""
    rerank_answer_threshold: float = DEFAULT_RERANK_ANSWER_THRESHOLD
    """... and then at least this answers ..."""
    rerank_partial_threshold: float = DEFAULT_RERANK_PARTIAL_THRESHOLD
    """... and at least this gives a broad question a partial answer (``abstain_threshold`` and
    ``partial_threshold`` apply to the confidence without a reranker)."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= MAX_ANSWER_SENTENCES:
            raise ValueError(f"max_sentences must be between 1 and {MAX_ANSWER_SENTENCES}")
        for name in (
            "mmr_lambda",
            "relative_cutoff",
            "duplicate_similarity",
            "abstain_threshold",
            "confidence_dense_weight",
            "confidence_rerank_weight",
            "partial_threshold",
            "min_named_coverage",
            "min_term_coverage",
            "min_candidate_named",
            "type_min_share",
            "rerank_answer_threshold",
            "rerank_partial_threshold",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.lexical_saturation <= 0:
            raise ValueError("lexical_saturation must be positive")
        if self.lexical_saturation_passages < 0:
            raise ValueError("lexical_saturation_passages must not be negative")
        if not 1 <= self.type_window <= 50:
            raise ValueError("type_window must be between 1 and 50")
        if self.confidence_evidence_sentences < 1:
            raise ValueError("confidence_evidence_sentences must be at least 1")


_BACK_REFERENCE = re.compile(
    r"^[\"“‘']?(?:(?:And|But|So|Yet|Still|Also) )?(?:[Hh]e|[Ss]he|[Ii]t|[Tt]hey|[Tt]his|[Tt]hat|[Tt]hese|[Tt]hose|"
    r"[Hh]is|[Hh]er|[Ii]ts|[Tt]heir|[Ss]uch|[Tt]here|"
    r"The (?:move|decision|deal|agreement|plan|proposal|show|step|process|exchange|swap|talks|meeting|report|"
    r"statement|figure|number|list|group|measure|initiative|effort|goal|aim|reason|idea)|"
    # "... earlier rounds of negotiations. The first round, held on May 16, ...": one of those just named.
    r"The (?:first|second|third|fourth|fifth|last|final|latest|next|other) \w+)\b"
)
_FORWARD_CUE = re.compile(
    r"^[\"“‘']?(?:This includes|These include|They include|Those include|Among them|That is because|"
    r"That's because|That’s because|This is because|Because|The reason|The goal|The aim|It includes|These are|"
    r"They are|Including)\b"
)
_SUBJECT_PRONOUN = re.compile(
    r"^[\"“‘']?(?:(?:And|But|So|Yet|Still|Also) )?(?:[Hh]e|[Ss]he|[Tt]hey|[Ii]t|[Tt]his|[Tt]hat|[Tt]hese|[Tt]hose)\b"
)
_QUOTE = re.compile(r"[\"“”]")
_POSSESSIVE = re.compile(r"\w['’]s$")
_ASKS_WHOSE = re.compile(r"\bwhose\b", re.I)
MAX_COMPLETED_CHARS = 700
SERIES_LOOKAHEAD = 3
"""How many sentences after a series member the one asked for is looked for."""
_FACILITY_WORD = re.compile(rf"\b(?:{FACILITY_NOUNS})\b", re.I)


def lacks_typed_answer(answer: Answer) -> bool:
    """Whether a factoid answer's first span holds no answer of the asked type (``require_answer_type``
    abstains on it); a "who" span naming only the source it quotes is not held against it."""
    return AnswerType(answer.answer_type) in FACTOID and answer.short_answer is None and not answer.quoted_source_only


def largest_idf(passages: int) -> float:
    """BM25's IDF (bm25s's Lucene form) of a term found in one passage of ``passages``: the most any term adds."""
    return math.log(1.0 + (max(passages, 1) - 0.5) / 1.5)


def lexical_saturation(params: ComposerParams, passages: int) -> float:
    """The BM25 score at which the confidence's lexical half reaches 0.5 in a corpus of ``passages`` passages."""
    if not params.lexical_saturation_passages:
        return params.lexical_saturation
    return params.lexical_saturation * largest_idf(passages) / largest_idf(params.lexical_saturation_passages)


def _is_kind(answer_type: AnswerType, text: str, label: str) -> bool:
    """Whether an entity is of the narrower kind a country, state or facility question asks for (any
    entity otherwise)."""
    if answer_type is AnswerType.COUNTRY:
        return is_country(text)
    if answer_type is AnswerType.STATE:
        return is_state(text)
    if answer_type is AnswerType.FACILITY:
        return label == "FAC" or bool(_FACILITY_WORD.search(text))
    return True


def _label_rank(answer_type: AnswerType, label: str) -> int:
    """Which tagged spans a short answer prefers (lower first): for "who", a span tagged as a person
    before a body (the small tagger calls unfamiliar names ORG, so a body is still a candidate); a
    model's label before the rule tagger's NAME."""
    if answer_type is AnswerType.PERSON:
        return {"PERSON": 0, "ORG": 1}.get(label, 2)
    return 0 if label != "NAME" else 1


def _asked_around(text: str, span: TypedSpan, start: int, end: int, asked: frozenset[str], reach: int = 40) -> int:
    """How many of the question's words (longer than three letters) stand within ``reach`` characters of
    ``span`` inside ``start..end``: "5,984 students in its professional schools" answers "How many students
    signed up for its professional schools?" before "5,792 students", which is only as near "students"."""
    around = text[max(start, span.start - reach) : span.start] + " " + text[span.end : min(end, span.end + reach)]
    return len({w.casefold() for w in re.findall(r"\w+", around) if places_answer(w, asked)})


# "When was it first banned?", "the only ...": one member of a series is asked for, not the series.
_ASKS_FOR_ONE = re.compile(r"\b(?:first|last|only|one)\b", re.I)
_SERIES_COMMA = re.compile(r",\s+")
_SERIES_AND = re.compile(r",?\s+and\s+")


def coordinated_span(best: TypedSpan, spans: Sequence[TypedSpan], text: str) -> tuple[int, int]:
    """Offsets of ``best`` widened to the series of answer spans it stands in when the series is joined
    by "and" ("Thomas Vasey and Richard Whatcoat", "Muqali, Jebe and Subutai"); ``best`` alone otherwise,
    so that an apposition ("Graz, Austria") is not taken for a series."""
    start, end = best.start, best.end
    joined = False
    others = sorted({(span.start, span.end) for span in spans} - {(best.start, best.end)})
    grown = True
    while grown:
        grown = False
        for other_start, other_end in others:
            if other_end <= start:
                gap, side = text[other_end:start], "left"
            elif other_start >= end:
                gap, side = text[end:other_start], "right"
            else:
                continue
            by_and = _SERIES_AND.fullmatch(gap) is not None
            if not by_and and _SERIES_COMMA.fullmatch(gap) is None:
                continue
            joined = joined or by_and
            if side == "left":
                start = other_start
            else:
                end = other_end
            grown = True
    return (start, end) if joined else (best.start, best.end)


def _normalised(text: str) -> str:
    return re.sub(r"\W+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


class AnswerComposer:
    """Picks up to ``max_sentences`` sentences by MMR, merges near-duplicates, and abstains
    when the confidence is below ``abstain_threshold``."""

    def __init__(
        self,
        store: IndexStore,
        sentence_vectors: np.ndarray,
        params: ComposerParams | None = None,
        answerability: AnswerabilityModel | None = None,
    ) -> None:
        self.store = store
        self.sentence_vectors = sentence_vectors
        self.params = params or ComposerParams()
        self.answerability = answerability

    def confidence(
        self,
        ranked: Sequence[ScoredSentence],
        params: ComposerParams,
        *,
        question: str = "",
        coverage: QuestionCoverage | None = None,
        answer_type: AnswerType = AnswerType.DESCRIPTION,
    ) -> float:
        """How sure the answer is. With an answerability model: its probability that the articles answer
        the question. Without one: the best sentence's cosine similarity blended with the strongest
        BM25 score among the passages of the ``confidence_evidence_sentences`` best sentences
        (``score / (score + lexical_saturation)`` maps BM25 into [0, 1)).
        """
        reranked = [s.rerank for s in ranked if s.rerank is not None]
        if reranked and params.rerank_confidence:
            return round(max(reranked), 4)
        if self.answerability is not None and coverage is not None:
            features = question_features(question, ranked, coverage, answer_type)
            return round(self.answerability.probability(features), 4)
        dense = min(max(ranked[0].dense, 0.0), 1.0)
        raw = max(s.passage_lexical for s in ranked[: params.confidence_evidence_sentences])
        saturation = params.lexical_saturation
        if params.lexical_saturation_passages:
            saturation = lexical_saturation(params, len(self.store.passages))
        lexical = raw / (raw + saturation) if raw > 0 else 0.0
        w = params.confidence_dense_weight
        blend = w * dense + (1 - w) * lexical
        if ranked[0].rerank is not None:
            blend += params.confidence_rerank_weight * ranked[0].score * (1 - blend)
        return round(blend, 4)

    def support(
        self,
        confidence: float,
        coverage: QuestionCoverage | None,
        params: ComposerParams,
        answer_type: AnswerType = AnswerType.DESCRIPTION,
    ) -> Support:
        """``answer``, ``partial`` or ``none``: confident evidence answers; weaker evidence about a subject
        the articles cover is a partial answer to a broad question; a subject they never mention, or a
        factoid question without confident evidence, is abstained on."""
        return self.support_of(confidence, coverage, params, factoid=answer_type in FACTOID)

    @staticmethod
    def thresholds_for(params: ComposerParams, reranked: bool) -> ComposerParams:
        """``params`` with the abstention thresholds of the confidence in use (the reranker's or the blend's)."""
        if not reranked:
            return params
        return replace(
            params,
            abstain_threshold=params.rerank_answer_threshold,
            partial_threshold=params.rerank_partial_threshold,
        )

    @staticmethod
    def support_of(
        confidence: float, coverage: QuestionCoverage | None, params: ComposerParams, *, factoid: bool = False
    ) -> Support:
        """:meth:`support` as a plain function of its inputs (the evaluation replays it per threshold).

        A factoid question ("How many ...?", "Who ...?") gets no partial answer: a weakly supported number
        or name is a wrong answer, not part of one."""
        if coverage is not None and (
            coverage.named < params.min_named_coverage
            or coverage.candidate_named < params.min_candidate_named
            or (params.abstain_uncounted and coverage.uncounted is not None)
        ):
            return "none"
        if confidence >= params.abstain_threshold:
            return "answer"
        covered = coverage is None or coverage.terms >= params.min_term_coverage
        if not factoid and covered and confidence >= min(params.partial_threshold, params.abstain_threshold):
            return "partial"
        return "none"

    def compose(
        self,
        question: str,
        ranked: Sequence[ScoredSentence],
        *,
        coverage: QuestionCoverage | None = None,
        **overrides: Any,
    ) -> Answer:
        params = replace(self.params, **overrides) if overrides else self.params
        answer_type = classify_question(question)
        if not ranked:
            return Answer(question, ABSTAIN_MESSAGE, True, 0.0, answer_type=answer_type.value)
        best = ranked[0]
        confidence = self.confidence(ranked, params, question=question, coverage=coverage, answer_type=answer_type)
        params = self.thresholds_for(params, best.rerank is not None and params.rerank_confidence)
        support = self.support(confidence, coverage, params, answer_type)
        debug = {"best_score": best.score}
        if coverage is not None:
            debug["candidate_named"] = coverage.candidate_named
        if support == "none":
            return Answer(question, ABSTAIN_MESSAGE, True, confidence, debug=debug, answer_type=answer_type.value)
        groups = self._select(self.typed_first(question, ranked, answer_type, params), params)
        answer = self._render(question, confidence, groups, answer_type, params)
        if params.require_answer_type and lacks_typed_answer(answer):
            return Answer(
                question,
                ABSTAIN_MESSAGE,
                True,
                confidence,
                debug={**debug, "no_typed_answer": 1.0},
                answer_type=answer_type.value,
            )
        return replace(answer, support=support, debug=debug)

    def typed_first(
        self, question: str, ranked: Sequence[ScoredSentence], answer_type: AnswerType, params: ComposerParams
    ) -> Sequence[ScoredSentence]:
        """For a factoid question, the best of the ``type_window`` best sentences whose cited span holds an
        answer of the asked-for type goes first: a sentence that names no country cannot answer "Which
        country ...?", however well it matches the question's words. Where the question says more about
        its answer, a sentence that agrees goes before any typed one: a date as precise as asked ("What
        day of the week ...?": "on Sunday", not "on June 2"), a quantity of what is counted ("How many
        prisoner exchanges ...?": "multiple prisoner exchanges", not "1,200 Ukrainians")."""
        if params.type_window <= 1:
            return ranked
        sentences = self.store.sentences
        asked = question_words(question)
        ranked = self._series_member(question, ranked, answer_type, asked, params)
        if answer_type not in FACTOID:
            # "What is the main issue ...?": a sentence saying "The main issue is ..." states the answer.
            subject = asked_subject(question)
            if subject is None:
                return ranked
            defines = [lambda row: defines_subject(subject, sentences[row].text)]
            return self._first_holding(ranked, params, defines, answer_type, asked)

        def typed(row: int) -> bool:
            return self._typed(row, answer_type, asked)

        preferences: list[Callable[[int], bool]] = [typed]
        granularity = date_granularity(question) if answer_type is AnswerType.DATE else None
        if granularity is not None:
            preferences = [lambda row: typed(row) and bool(has_granularity(granularity, sentences[row].text, asked))]
        if answer_type in (AnswerType.STATE, AnswerType.FACILITY):
            preferences.insert(0, lambda row: self._holds_kind(row, answer_type, asked))
        counted = counted_terms(question) if answer_type is AnswerType.QUANTITY else frozenset()
        if counted:
            preferences.insert(0, lambda row: counted_quantity(counted, sentences[row].text) is not None)
        return self._first_holding(ranked, params, preferences, answer_type, asked)

    def _series_member(
        self,
        question: str,
        ranked: Sequence[ScoredSentence],
        answer_type: AnswerType,
        asked_words: frozenset[str],
        params: ComposerParams,
    ) -> Sequence[ScoredSentence]:
        """For a question about one member of a numbered series ("the last of the three sessions" is the
        third), a sentence shortly after a top candidate about that series ("... earlier rounds of
        negotiations", "The second round ...") that names the asked member ("The third round of talks took
        place on July 23.") goes first, with the candidate's scores: articles list a series in order, and
        the member asked for may share no word with the question."""
        asked = ordinals(question) - {LAST}
        if not asked:
            return ranked
        sentences = self.store.sentences
        for candidate in ranked[: params.type_window]:
            named = numbered_members(candidate.sentence.text)
            if any(number in asked for number, _ in named):
                continue  # it names the asked member itself
            # The series it is about: another numbered member ("the second round"), or them all ("rounds").
            words = frozenset(re.findall(r"\w+", candidate.sentence.text.casefold()))
            series = {noun for _, noun in named}
            row = candidate.row
            for _ in range(SERIES_LOOKAHEAD):
                row += 1
                if (
                    row >= len(sentences)
                    or sentences[row].doc_id != candidate.sentence.doc_id
                    or sentences[row].is_heading
                ):
                    break
                members = numbered_members(sentences[row].text)
                if any(number in asked and (noun in series or f"{noun}s" in words) for number, noun in members):
                    cited = self.completed_span(candidate.row, answer_type, asked_words) if params.complete_span else ()
                    if cited and cited[0] <= row <= cited[1]:
                        return ranked  # the candidate's cited span holds it already
                    member = replace(candidate, row=row, sentence=sentences[row])
                    return [member, *(s for s in ranked if s.row != row)]
        return ranked

    def _first_holding(
        self,
        ranked: Sequence[ScoredSentence],
        params: ComposerParams,
        preferences: Sequence[Callable[[int], bool]],
        answer_type: AnswerType,
        asked: frozenset[str],
    ) -> Sequence[ScoredSentence]:
        """``ranked`` with the best of its ``type_window`` best sentences whose cited span meets the first
        preference any of them meets put first (unchanged when none does)."""
        floor = params.type_min_share * ranked[0].score if ranked else 0.0
        window: list[ScoredSentence] = []
        for position, candidate in enumerate(ranked[: params.type_window]):
            if position and candidate.score < floor:
                break
            window.append(candidate)
        spans: dict[int, range] = {}

        def cited_rows(position: int) -> range:
            """The rows the candidate's cited span covers, worked out once and only when asked for."""
            if position not in spans:
                row = window[position].row
                first, last = self.completed_span(row, answer_type, asked) if params.complete_span else (row, row)
                spans[position] = range(first, last + 1)
            return spans[position]

        for holds in preferences:
            for position, candidate in enumerate(window):
                if any(holds(row) for row in cited_rows(position)):
                    if position == 0:
                        return ranked
                    return [candidate, *ranked[:position], *ranked[position + 1 :]]
        return ranked

    # ---- completing the match -------------------------------------------------------------
    def _neighbour(self, row: int, step: int) -> int | None:
        """The sentence before (``step=-1``) or after (``+1``) ``row`` in the same paragraph run."""
        other = row + step
        sentences = self.store.sentences
        if not 0 <= other < len(sentences):
            return None
        here, there = sentences[row], sentences[other]
        if there.doc_id != here.doc_id or there.section != here.section or there.is_heading:
            return None
        return other

    def _entities(self, row: int) -> Sequence[Entity]:
        """The entity spans stored for the sentence at ``row`` (none for an index built without them)."""
        return self.store.entities[row] if row < len(self.store.entities) else ()

    def _answer_spans(self, row: int, answer_type: AnswerType, asked: frozenset[str]) -> tuple[str, list[TypedSpan]]:
        """The sentence's document text and its entities of ``answer_type`` that the question did not name."""
        text = self.store.documents[self.store.sentences[row].doc_id].text
        return text, answer_spans(answer_type, self._entities(row), text, asked)

    def _typed(self, row: int, answer_type: AnswerType, asked: frozenset[str]) -> bool:
        if answer_type in FACTOID:
            return bool(self._answer_spans(row, answer_type, asked)[1])
        return has_cue(answer_type, self.store.sentences[row].text)

    def _holds_kind(self, row: int, answer_type: AnswerType, asked: frozenset[str]) -> bool:
        """Whether the sentence at ``row`` holds a place of the narrower kind asked for (a state, a facility)."""
        text, spans = self._answer_spans(row, answer_type, asked)
        return any(_is_kind(answer_type, text[span.start : span.end], span.label) for span in spans)

    def completed_span(self, row: int, answer_type: AnswerType, asked: frozenset[str]) -> tuple[int, int]:
        """The first and last sentence rows of the cited span for the sentence at ``row``.

        A sentence that points forward ("This includes ...", a colon) or leaves the asked-for reason,
        list or entity to the next sentence is cited together with it; one that opens with a pronoun
        and names nobody is cited with the sentence before it. Every character stays the article's own.
        """
        sentences = self.store.sentences
        first = last = row
        lead = sentences[row].text
        nxt = self._neighbour(row, +1)
        if nxt is not None:
            following = sentences[nxt].text
            lead_has = self._typed(row, answer_type, asked)
            if (
                lead.rstrip().endswith(":")
                or _FORWARD_CUE.search(following)
                or (
                    not lead_has
                    and self._typed(nxt, answer_type, asked)
                    and (
                        _BACK_REFERENCE.search(following)
                        or (answer_type is AnswerType.REASON and bool(_QUOTE.search(following)))
                    )
                )
            ):
                last = nxt
        previous = self._neighbour(row, -1)
        if previous is not None and _SUBJECT_PRONOUN.search(lead):
            entities = self._entities(row)
            names = {"PERSON", "ORG", "GPE", "NORP", "NAME"}
            if not any(e.label in names for e in entities):
                first = previous
        while sentences[last].end - sentences[first].start > MAX_COMPLETED_CHARS and last > row:
            last -= 1
        while sentences[last].end - sentences[first].start > MAX_COMPLETED_CHARS and first < row:
            first += 1
        return first, last

    def short_answer(
        self, first: int, last: int, lead: int, answer_type: AnswerType, asked: frozenset[str], question: str
    ) -> ShortAnswer | None:
        """The entity of the asked-for type inside rows ``first..last``, nearest the question's own words
        in the lead sentence; None when the question is not a factoid or no such entity is there."""
        return self._short_answer(first, last, lead, answer_type, asked, question)[0]

    def _short_answer(
        self, first: int, last: int, lead: int, answer_type: AnswerType, asked: frozenset[str], question: str
    ) -> tuple[ShortAnswer | None, bool]:
        """:meth:`short_answer`, and whether a person of the span was left out only as the source it quotes."""
        if answer_type not in FACTOID:
            return self._untagged_answer(first, last, lead, asked, question, answer_type), False
        sentence = self.store.sentences[lead]
        text = self.store.documents[sentence.doc_id].text
        candidates = []
        about_another_day = quoted_source = False
        # The source a sentence quotes is not who did what the question asks ("According to Umerov, ...").
        skip_sources = answer_type is AnswerType.PERSON and not asks_about_speech(question)
        for row in range(first, last + 1):
            current = self.store.sentences[row]
            if conflicting_day(question, current.text):
                about_another_day = True  # not the answer to a question about this day
                continue
            for span in answer_spans(answer_type, self._entities(row), text, asked):
                at = span.start - current.start
                if skip_sources and reported_speaker(current.text, at, at + span.end - span.start):
                    quoted_source = True
                    continue
                candidates.append((row != lead, span))
        if not candidates:
            if about_another_day or quoted_source:
                # A span about another day than the asked one is abstained on, whoever else it quotes.
                return None, quoted_source and not about_another_day
            found = self._counted_quantity(first, last, answer_type, question)
            return found or self._untagged_answer(first, last, lead, asked, question, answer_type), False
        if answer_type is AnswerType.PERSON:
            # Only the person the question itself names: whoever it asks about is not in the span. A body
            # may answer "who" and share a word with the question ("the Court of Justice of the European Union").
            candidates = [
                (outside, span)
                for outside, span in candidates
                if names_a_body(span.label, text[span.start : span.end])
                or not names_the_asked_person(text[span.start : span.end], question)
            ]
            if not candidates:
                return None, False
        anchors = [
            sentence.start + m.start() for m in re.finditer(r"\w+", sentence.text) if places_answer(m.group(0), asked)
        ] or [sentence.start]

        head = counted_head(question) if answer_type is AnswerType.QUANTITY else None
        granularity = date_granularity(question) if answer_type is AnswerType.DATE else None

        def distance(item: tuple[bool, Any]) -> tuple[bool, bool, bool, int, int, int]:
            outside, span = item
            # For "who": a person before a body (the person the question names is gone already); for a
            # country, state or facility question: a place of that kind before any other.
            found = text[span.start : span.end]
            unlikely = (answer_type is AnswerType.PERSON and names_a_body(span.label, found)) or not _is_kind(
                answer_type, found, span.label
            )
            near = min(min(abs(span.start - a), abs(span.end - a)) for a in anchors)
            # "How many minors ...?": a number followed by what is counted, before any other number.
            imprecise = head is not None and not counts_what_follows(head, text[span.end : span.end + 40])
            # "In what year ...?": a date that names a year before "a year later" or "the 21st".
            imprecise = imprecise or (granularity is not None and granularity_span(granularity, found) is None)
            around = _asked_around(text, span, sentence.start, sentence.end, asked)
            return outside, unlikely, imprecise, _label_rank(answer_type, span.label), -around, near

        _, best = min(candidates, key=distance)
        start, end = best.start, best.end
        precise = granularity_span(granularity, text[start:end]) if granularity in ("year", "month") else None
        if precise is not None:
            # Only what was asked: "2009" of "March 2009", "May" of "May of this year".
            start, end = start + precise[0], start + precise[1]
        elif not _ASKS_FOR_ONE.search(question):
            start, end = coordinated_span(best, [span for _, span in candidates], text)
        if _POSSESSIVE.search(text, start, end) and not _ASKS_WHOSE.search(question):
            end -= 2  # "Richard Harbison" of "Richard Harbison's analysis", unless "Whose ...?" asks
        return ShortAnswer(text[start:end], sentence.doc_id, start, end), False

    def _untagged_answer(
        self, first: int, last: int, lead: int, asked: frozenset[str], question: str, answer_type: AnswerType
    ) -> ShortAnswer | None:
        """A short answer in rows ``first..last`` that no tagged entity gives, placed by the question's wording:
        the words doing what "Who <verb> ...?" asks ("the owner" in "The owner produces a list"), the place
        after the verb of "Where ...?" ("troops remained stationed in the kingdom"), a year the tagger missed
        ("c1750"), what stands where a question ending in its question word asks ("... are known as
        what?"), the name after "called", the qualifier of "What kind of X?", or what "is" the asked thing
        ("Rugby is also a growing sport"); the lead sentence's first; or None."""
        finders: list[Callable[[str], tuple[int, int] | None]] = []
        predicate = asked_predicate(question) if answer_type is AnswerType.PERSON else None
        if predicate is not None:
            finders.append(partial(predicate_subject, predicate))
        place_words = asked_place_words(question) if answer_type is AnswerType.PLACE else None
        if place_words is not None:
            finders.append(partial(place_after_verb, place_words))
        if answer_type is AnswerType.DATE:
            finders.append(partial(written_year, asked=asked))
        finders.append(partial(in_place_answer, question))
        finders.append(partial(name_given, question))
        finders.append(partial(copula_answer, question))
        if answer_type is not AnswerType.LIST:  # "What types of ...?" asks for several, not one qualifier
            finders.append(partial(kind_modifier, question, asked=asked))
        for find in finders:
            for row in sorted(range(first, last + 1), key=lambda r: r != lead):
                sentence = self.store.sentences[row]
                found = find(sentence.text)
                if found is None:
                    continue
                start, end = sentence.start + found[0], sentence.start + found[1]
                text = self.store.documents[sentence.doc_id].text[start:end]
                if not all(w.casefold() in asked for w in re.findall(r"\w+", text)):  # not only the question's words
                    return ShortAnswer(text, sentence.doc_id, start, end)
        return None

    def _counted_quantity(self, first: int, last: int, answer_type: AnswerType, question: str) -> ShortAnswer | None:
        """For "How many X ...?" with no number in rows ``first..last``: the quantity word right before X
        ("multiple" in "multiple prisoner exchanges"), or None."""
        counted = counted_terms(question) if answer_type is AnswerType.QUANTITY else frozenset()
        for row in range(first, last + 1):
            sentence = self.store.sentences[row]
            found = counted_quantity(counted, sentence.text)
            if found is not None:
                start, end = sentence.start + found[0], sentence.start + found[1]
                text = self.store.documents[sentence.doc_id].text[start:end]
                return ShortAnswer(text, sentence.doc_id, start, end)
        return None

    def _similar(self, a: ScoredSentence, b: ScoredSentence) -> float:
        return float(self.sentence_vectors[a.row] @ self.sentence_vectors[b.row])

    def _select(self, ranked: Sequence[ScoredSentence], params: ComposerParams) -> list[list[ScoredSentence]]:
        """MMR selection; each group is a chosen sentence followed by its near-duplicates elsewhere."""
        best = ranked[0]
        # The cutoff is relative to the best evidence, also when a typed sentence was put first.
        top_score = max(s.score for s in ranked)
        groups: list[list[ScoredSentence]] = [[best]]
        pool = list(ranked[1:])
        while pool:
            # Near-duplicates of a chosen sentence become citations of it, not new sentences.
            remaining = []
            for candidate in pool:
                for group in groups:
                    if (
                        _normalised(candidate.sentence.text) == _normalised(group[0].sentence.text)
                        or self._similar(candidate, group[0]) >= params.duplicate_similarity
                    ):
                        if all(member.sentence.doc_id != candidate.sentence.doc_id for member in group):
                            group.append(candidate)
                        break
                else:
                    remaining.append(candidate)
            pool = remaining
            if len(groups) >= params.max_sentences or not pool:
                break
            eligible = [c for c in pool if c.score >= params.relative_cutoff * top_score]
            if not eligible:
                break
            chosen = max(
                eligible,
                key=lambda c: (
                    params.mmr_lambda * c.score - (1 - params.mmr_lambda) * max(self._similar(c, g[0]) for g in groups)
                ),
            )
            groups.append([chosen])
            pool = [c for c in pool if c is not chosen]
        return groups

    def _render(
        self,
        question: str,
        confidence: float,
        groups: list[list[ScoredSentence]],
        answer_type: AnswerType = AnswerType.DESCRIPTION,
        params: ComposerParams | None = None,
    ) -> Answer:
        params = params or self.params
        asked = question_words(question)
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        short: ShortAnswer | None = None
        quoted_source_only = False
        covered: set[int] = set()
        for group in groups:
            lead = group[0]
            if lead.row in covered:
                continue  # already cited as the completion of an earlier sentence
            first, last = (
                self.completed_span(lead.row, answer_type, asked) if params.complete_span else (lead.row, lead.row)
            )
            covered.update(range(first, last + 1))
            if not citations:
                short, quoted_source_only = self._short_answer(first, last, lead.row, answer_type, asked, question)
            ids = []
            for position, member in enumerate(group):
                sentence = member.sentence
                document = self.store.documents[sentence.doc_id]
                start, end = sentence.start, sentence.end
                if position == 0:
                    start, end = self.store.sentences[first].start, self.store.sentences[last].end
                citation = Citation(
                    id=len(citations) + 1,
                    doc_id=sentence.doc_id,
                    title=document.title,
                    source=document.source,
                    url=document.url,
                    text=document.text[start:end],
                    start=start,
                    end=end,
                    score=round(member.score, 4),
                )
                citations.append(citation)
                ids.append(citation.id)
            sentences.append(AnswerSentence(citations[ids[0] - 1].text, tuple(ids)))
        text = " ".join(s.text + " " + "".join(f"[{i}]" for i in s.citations) for s in sentences)
        return Answer(
            question,
            text,
            False,
            confidence,
            tuple(sentences),
            tuple(citations),
            short_answer=short,
            answer_type=answer_type.value,
            support="answer",
            quoted_source_only=quoted_source_only,
        )
