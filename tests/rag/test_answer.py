from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answer import (
    ABSTAIN_MESSAGE,
    SEED_PASSAGES,
    Answer,
    AnswerComposer,
    ComposerParams,
    coordinated_span,
    largest_idf,
    lexical_saturation,
)
from rag.answer_types import AnswerType, TypedSpan, classify_question
from rag.embedding import HashingEmbedder
from rag.pipeline import QAPipeline
from rag.retrieval import QuestionCoverage, ScoredSentence
from tests.conftest import assert_citations_verbatim

SHARED = "The exchange freed 84 soldiers and 20 civilians on Monday."


@pytest.fixture()
def small(tmp_path: Path) -> QAPipeline:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(f"Swap story\n{SHARED} Buses took them to Chernihiv.\n", encoding="utf-8")
    (corpus / "b.txt").write_text(f"Another outlet\nOfficials spoke. {SHARED}\n", encoding="utf-8")
    (corpus / "c.txt").write_text(
        "Weather\nRain is expected in Lviv on Friday. Winds will be strong.\n", encoding="utf-8"
    )
    pipeline, _ = QAPipeline.from_paths(
        [corpus], tmp_path / "idx", embedder=HashingEmbedder(), composer=ComposerParams(abstain_threshold=0.05)
    )
    return pipeline


def texts(pipeline: QAPipeline) -> dict[str, str]:
    return {k: d.text for k, d in pipeline.store.documents.items()}


def test_same_sentence_in_two_articles_is_shown_once_and_cites_both(small: QAPipeline) -> None:
    answer = small.ask("How many soldiers and civilians did the exchange free?")
    assert not answer.abstained
    first = answer.sentences[0]
    assert first.text == SHARED
    cited_docs = {answer.citations[i - 1].doc_id for i in first.citations}
    assert cited_docs == {"a", "b"}
    assert sum(s.text == SHARED for s in answer.sentences) == 1
    assert answer.answer.startswith(f"{SHARED} [1][2]")
    assert_citations_verbatim(answer, texts(small))


def test_citation_ids_number_the_citations_in_order(small: QAPipeline) -> None:
    answer = small.ask("What did the exchange do and where did buses go?", max_sentences=3)
    assert [c.id for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    markers = [i for s in answer.sentences for i in s.citations]
    assert markers == [c.id for c in answer.citations]


def test_max_sentences_is_respected(small: QAPipeline) -> None:
    answer = small.ask("exchange soldiers civilians buses Chernihiv rain Lviv", max_sentences=1)
    assert len(answer.sentences) == 1


def test_unrelated_question_abstains_without_citations(small: QAPipeline) -> None:
    answer = small.ask("Who won the chess olympiad?")
    assert answer.abstained and answer.answer == ABSTAIN_MESSAGE
    assert answer.citations == () and answer.sentences == ()
    assert 0.0 <= answer.confidence < 0.1


def test_threshold_decides_abstention(small: QAPipeline) -> None:
    question = "How many soldiers did the exchange free?"
    confident = small.ask(question)
    assert not confident.abstained
    strict = small.composer.compose(
        question,
        small.retriever.rank_sentences(question, small.search(question, small.top_k)),
        abstain_threshold=min(1.0, confident.confidence + 0.01),
    )
    assert strict.abstained and strict.confidence == confident.confidence


def test_empty_question_is_an_error(small: QAPipeline) -> None:
    with pytest.raises(ValueError, match="question must not be empty"):
        small.ask("   ")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_sentences": 0}, "max_sentences"),
        ({"abstain_threshold": 2.0}, "abstain_threshold"),
        ({"lexical_saturation_passages": -1}, "lexical_saturation_passages"),
    ],
)
def test_invalid_composer_params(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ComposerParams(**kwargs)  # type: ignore[arg-type]


@pytest.fixture()
def council(tmp_path: Path) -> QAPipeline:
    corpus = tmp_path / "council-corpus"
    corpus.mkdir()
    (corpus / "vote.txt").write_text(
        "City council vote\n"
        "The council says its goal is a vote before March. "
        "That is because the budget must pass before the spring session. "
        "Rain fell on the town hall all week.\n",
        encoding="utf-8",
    )
    (corpus / "other.txt").write_text(
        "Harbour news\nThe harbour reopened on Tuesday after repairs costing 40 million euros.\n", encoding="utf-8"
    )
    pipeline, _ = QAPipeline.from_paths(
        [corpus], tmp_path / "council-idx", embedder=HashingEmbedder(), composer=ComposerParams(abstain_threshold=0.05)
    )
    return pipeline


def test_reason_in_the_next_sentence_is_cited_in_the_same_span(council: QAPipeline) -> None:
    answer = council.ask("Why does the council want the vote before March?")
    first = answer.sentences[0].text
    assert first.startswith("The council says its goal is a vote before March.")
    assert "because the budget must pass" in first
    assert answer.answer_type == "reason"
    assert_citations_verbatim(answer, texts(council))


def test_a_self_contained_sentence_is_not_extended(council: QAPipeline) -> None:
    answer = council.ask("When did the harbour reopen?")
    assert answer.sentences[0].text == "The harbour reopened on Tuesday after repairs costing 40 million euros."


def test_short_answer_is_the_typed_entity_inside_the_first_citation(small: QAPipeline, council: QAPipeline) -> None:
    answer = council.ask("When did the harbour reopen?")
    assert answer.short_answer is not None and answer.short_answer.text == "Tuesday"
    document = council.store.documents[answer.short_answer.doc_id].text
    assert document[answer.short_answer.start : answer.short_answer.end] == "Tuesday"
    first = answer.citations[0]
    assert first.start <= answer.short_answer.start < answer.short_answer.end <= first.end
    assert small.ask("How many soldiers did the exchange free?").short_answer is not None


def test_no_short_answer_for_descriptive_questions(council: QAPipeline) -> None:
    answer = council.ask("What does the council say about its goal?")
    assert answer.short_answer is None


def test_subject_the_articles_never_mention_is_abstained(council: QAPipeline) -> None:
    answer = council.ask("What is the population of Canada?")
    assert answer.abstained and answer.support == "none"


def test_a_factoid_question_gets_no_partial_answer() -> None:
    params = ComposerParams(abstain_threshold=0.3, partial_threshold=0.2)
    covered = QuestionCoverage(terms=1.0, named=1.0)
    assert AnswerComposer.support_of(0.25, covered, params) == "partial"
    assert AnswerComposer.support_of(0.25, covered, params, factoid=True) == "none"
    assert AnswerComposer.support_of(0.35, covered, params, factoid=True) == "answer"


def test_the_lexical_saturation_grows_with_the_corpus_as_bm25s_largest_idf() -> None:
    fixed = ComposerParams(lexical_saturation=6.0, lexical_saturation_passages=0)
    assert lexical_saturation(fixed, 39) == lexical_saturation(fixed, 100_000) == 6.0
    scaled = ComposerParams(lexical_saturation=6.0)  # held at the seeds' 39 passages by default
    assert scaled.lexical_saturation_passages == SEED_PASSAGES == 39
    assert lexical_saturation(scaled, 39) == pytest.approx(6.0)
    # bm25s's Lucene IDF of a term in one of N passages, log(1 + (N - 0.5) / 1.5): 3.28 at 39, 7.60 at 3,000.
    assert largest_idf(3000) == pytest.approx(math.log(1 + 2999.5 / 1.5))
    assert lexical_saturation(scaled, 3000) == pytest.approx(6.0 * 7.6012 / 3.2834, rel=1e-4)
    assert lexical_saturation(scaled, 10) < 6.0 < lexical_saturation(scaled, 40)


def test_the_same_match_is_more_confident_in_a_corpus_smaller_than_the_saturations_reference(tmp_path: Path) -> None:
    article = OneArticle(tmp_path, "Swap story", [SHARED, "Buses took them to Chernihiv."])
    ranked = [replace(article.scored(SHARED, 0.9), passage_lexical=5.0)]
    composer = article.composer
    passages = len(article.store.passages)
    at_own_size = ComposerParams(lexical_saturation_passages=passages)
    larger_reference = ComposerParams(lexical_saturation_passages=1000 * passages)
    fixed = ComposerParams(lexical_saturation_passages=0)
    assert composer.confidence(ranked, at_own_size) == composer.confidence(ranked, fixed)
    assert composer.confidence(ranked, larger_reference) > composer.confidence(ranked, at_own_size)


class OneArticle:
    """A pipeline over one article of the given paragraphs, and its sentences by text, for composer tests."""

    def __init__(self, tmp_path: Path, title: str, paragraphs: list[str], **composer: float) -> None:
        corpus = tmp_path / "corpus"
        corpus.mkdir()
        (corpus / "article.txt").write_text("\n\n".join([title, *paragraphs]) + "\n", encoding="utf-8")
        self.pipeline, _ = QAPipeline.from_paths(
            [corpus], tmp_path / "idx", embedder=HashingEmbedder(), composer=ComposerParams(**composer)
        )
        self.store = self.pipeline.store
        self.composer = self.pipeline.composer
        self.rows = {s.text: row for row, s in enumerate(self.store.sentences)}

    def scored(self, text: str, score: float) -> ScoredSentence:
        """The sentence ``text`` as the ranker would hand it to the composer, with ``score``."""
        row = self.rows[text]
        return ScoredSentence(row, self.store.sentences[row], score, 0.5, 1.0, 1.0)


def test_the_best_sentence_with_an_answer_of_the_asked_type_is_cited_first(tmp_path: Path) -> None:
    untyped = "The prisoner exchange talks were long and hard."
    country = "The prisoner exchange talks were hosted in Turkey."
    city = "The talks were hosted in Ankara this spring."
    article = OneArticle(tmp_path, "Talks", [untyped, country, "Rain fell all week.", city])
    composer = article.composer
    ranked = [article.scored(untyped, 0.9), article.scored(country, 0.7), article.scored(city, 0.5)]
    question = "In which city were the prisoner exchange talks hosted?"
    assert classify_question(question) is AnswerType.CITY
    # A country is a place, but not the city asked for.
    promoted = composer.typed_first(question, ranked, AnswerType.CITY, ComposerParams(type_window=3))
    assert [s.sentence.text for s in promoted] == [city, untyped, country]
    place = composer.typed_first(question, ranked, AnswerType.PLACE, ComposerParams(type_window=3))
    assert [s.sentence.text for s in place] == [country, untyped, city]
    kept = composer.typed_first(question, ranked, AnswerType.CITY, ComposerParams(type_window=1))
    assert [s.sentence.text for s in kept] == [untyped, country, city]
    broad = composer.typed_first("Describe the talks.", ranked, AnswerType.DESCRIPTION, ComposerParams())
    assert [s.sentence.text for s in broad] == [untyped, country, city]


def test_a_sentence_that_states_what_a_what_is_question_asks_is_cited_first(tmp_path: Path) -> None:
    meeting = "According to Zelensky, the leaders of the coalition will meet on January 6."
    issue = "The main issue is security guarantees for Ukraine."
    article = OneArticle(tmp_path, "Talks", [meeting, issue, "Rain fell all week."])
    ranked = [article.scored(meeting, 0.9), article.scored(issue, 0.4)]
    question = "What is the main issue, according to Zelensky, ahead of the January meetings?"
    assert classify_question(question) is AnswerType.DESCRIPTION
    promoted = article.composer.typed_first(question, ranked, AnswerType.DESCRIPTION, ComposerParams(type_window=3))
    assert [s.sentence.text for s in promoted] == [issue, meeting]
    kept = article.composer.typed_first(question, ranked, AnswerType.DESCRIPTION, ComposerParams(type_window=1))
    assert [s.sentence.text for s in kept] == [meeting, issue]
    other = "What did Zelensky say ahead of the January meetings?"
    assert article.composer.typed_first(other, ranked, AnswerType.DESCRIPTION, ComposerParams()) == ranked


def test_the_asked_member_of_a_series_listed_after_a_candidate_is_cited_first(tmp_path: Path) -> None:
    earlier = "This exchange follows earlier rounds of talks in Istanbul."
    first = "The first round, held on May 16, agreed a swap."
    second = "The second round, on June 2, set two categories."
    third = "The third round of talks took place on July 23."
    rain = "Rain fell all week."
    article = OneArticle(tmp_path, "Talks", [f"{earlier} {first}", second, third, rain])
    composer = article.composer
    params = ComposerParams(type_window=3)
    ranked = [article.scored(earlier, 0.9), article.scored(rain, 0.2)]
    question = "What was the date of the last of the three Istanbul negotiation sessions?"
    promoted = composer.typed_first(question, ranked, AnswerType.DATE, params)
    assert [s.sentence.text for s in promoted] == [third, earlier, rain]
    assert promoted[0].score == 0.9  # the candidate's scores: it was found through it
    # A candidate that names the asked member itself, or a question that asks for none, keeps the order.
    about_second = [article.scored(second, 0.9), article.scored(rain, 0.2)]
    asked_second = "When was the second round of talks?"
    assert composer.typed_first(asked_second, about_second, AnswerType.DATE, params) == about_second
    when = "When were the talks in Istanbul?"
    assert composer.typed_first(when, ranked, AnswerType.DATE, params)[0].sentence.text != third


def test_a_country_question_answers_with_the_country_not_its_capital(tmp_path: Path) -> None:
    # The capital stands nearer the question's words than the country does.
    both = "Officials from Türkiye said in a long statement that they will host the next round of talks in Ankara."
    article = OneArticle(tmp_path, "Talks", [both, "Rain fell all week."], abstain_threshold=0.0)
    question = "Which country will host the next round of talks?"
    assert classify_question(question) is AnswerType.COUNTRY
    answer = article.composer.compose(question, [article.scored(both, 0.9)])
    assert answer.short_answer is not None and answer.short_answer.text == "Türkiye"
    assert answer.answer_type == "country"
    # "Where ...?" takes any place: the one nearest the question's words.
    where = article.composer.compose("Where are the talks?", [article.scored(both, 0.9)])
    assert where.short_answer is not None and where.short_answer.text == "Ankara"


def test_a_date_question_that_asks_how_precise_cites_a_date_that_precise_first(tmp_path: Path) -> None:
    june = "The president spoke about the swaps in a video address on June 2."
    sunday = "The video message about the swaps was posted on Sunday."
    article = OneArticle(tmp_path, "Address", [june, "Rain fell all week.", sunday])
    composer = article.composer
    assert composer._typed(article.rows[june], AnswerType.DATE, frozenset())  # a date, but not a weekday
    ranked = [article.scored(june, 0.9), article.scored(sunday, 0.5)]
    weekday = "What day of the week did the president share his video remarks about the swaps?"
    assert classify_question(weekday) is AnswerType.DATE
    promoted = composer.typed_first(weekday, ranked, AnswerType.DATE, ComposerParams(type_window=3))
    assert [s.sentence.text for s in promoted] == [sunday, june]
    # A date question that names no precision takes any date or time, as before.
    when = "When did the president share his video remarks about the swaps?"
    kept = composer.typed_first(when, ranked, AnswerType.DATE, ComposerParams(type_window=3))
    assert [s.sentence.text for s in kept] == [june, sunday]


def test_a_how_many_question_cites_the_sentence_that_counts_what_is_asked(tmp_path: Path) -> None:
    number = "Kyiv hopes the prisoner exchanges will free 1,200 Ukrainians."
    counting = "This year Ukraine and Russia have held multiple prisoner exchanges."
    rain = "Rain fell all week."
    article = OneArticle(tmp_path, "Swaps", [number, rain, counting], abstain_threshold=0.0)
    store = article.store
    question = "How many prisoner exchanges have Ukraine and Russia held this year?"
    ranked = [article.scored(number, 0.9), article.scored(counting, 0.6), article.scored(rain, 0.2)]
    answer = article.composer.compose(question, ranked)
    assert not answer.abstained
    # The other sentences are cut relative to the best evidence (0.9), not to the sentence put first (0.6).
    assert [c.text for c in answer.citations] == [counting, number]
    short = answer.short_answer
    assert short is not None and short.text == "multiple"
    assert store.documents[short.doc_id].text[short.start : short.end] == "multiple"
    # A number of something else still answers when no sentence counts what is asked.
    alone = article.composer.compose(question, [article.scored(number, 0.9)])
    assert alone.short_answer is not None and alone.short_answer.text == "1,200"


def test_names_missing_from_the_candidates_abstain_even_when_the_corpus_has_them() -> None:
    params = ComposerParams(abstain_threshold=0.3)
    elsewhere = QuestionCoverage(terms=1.0, named=1.0, candidate_named=0.25)
    here = QuestionCoverage(terms=1.0, named=1.0, candidate_named=1.0)
    assert AnswerComposer.support_of(0.6, elsewhere, params) == "none"
    assert AnswerComposer.support_of(0.6, here, params) == "answer"
    assert AnswerComposer.support_of(0.6, elsewhere, ComposerParams(min_candidate_named=0.0)) == "answer"


def test_a_count_the_articles_never_give_is_abstained() -> None:
    params = ComposerParams(abstain_threshold=0.3)
    uncounted = QuestionCoverage(terms=1.0, named=1.0, uncounted="children")
    counted = QuestionCoverage(terms=1.0, named=1.0)
    assert AnswerComposer.support_of(0.9, uncounted, params, factoid=True) == "none"
    assert AnswerComposer.support_of(0.9, counted, params, factoid=True) == "answer"
    assert AnswerComposer.support_of(0.9, uncounted, ComposerParams(abstain_uncounted=False)) == "answer"


def test_a_sentence_naming_one_of_several_just_mentioned_completes_the_match(tmp_path: Path) -> None:
    lead = "This planned exchange follows earlier rounds of negotiations in Istanbul."
    first_round = "The first round, held on May 16, resulted in an agreement on a swap."
    article = OneArticle(tmp_path, "Talks", [f"{lead} {first_round}", "Rain fell all week."], abstain_threshold=0.0)
    answer = article.composer.compose(
        "When did the opening round of the negotiations take place?", [article.scored(lead, 0.9)]
    )
    assert answer.citations[0].text == f"{lead} {first_round}"
    assert answer.short_answer is not None and answer.short_answer.text == "May 16"
    # A reason question is not completed by it: the lead has no reason, and neither has the next sentence.
    reason = article.composer.compose("Why were there rounds of negotiations?", [article.scored(lead, 0.9)])
    assert reason.citations[0].text == lead


@pytest.mark.parametrize(
    ("question", "without_answer", "with_answer", "short"),
    [
        # A "who" span that names only the person the question names.
        (
            "What is the name of the Turkish intelligence chief Umerov met?",
            "Rustem Umerov met the Turkish intelligence chief on Monday.",
            "Rustem Umerov met the intelligence chief Ibrahim Kalin on Tuesday.",
            "Ibrahim Kalin",
        ),
        # A place in a sentence about another day than the one asked about.
        (
            "Where will the leaders meet on January 6?",
            "On January 3, a meeting of security advisers will take place in Kyiv.",
            "The leaders will meet in Paris on January 6.",
            "Paris",
        ),
        # A quoted source in a sentence about another day: the day rule still abstains.
        (
            "Who will chair the meeting on January 6?",
            "On January 3, according to Umerov, the advisers will meet in Kyiv.",
            "Andriy Yermak will chair the meeting on January 6.",
            "Andriy Yermak",
        ),
    ],
)
def test_a_factoid_whose_span_cannot_hold_the_answer_is_abstained(
    tmp_path: Path, question: str, without_answer: str, with_answer: str, short: str
) -> None:
    article = OneArticle(tmp_path, "News", [without_answer, "Rain fell all week.", with_answer], abstain_threshold=0.0)
    absent = article.composer.compose(question, [article.scored(without_answer, 0.9)])
    assert absent.abstained and absent.short_answer is None
    present = article.composer.compose(question, [article.scored(with_answer, 0.9)])
    assert not present.abstained
    assert present.short_answer is not None and present.short_answer.text == short


@pytest.mark.parametrize(
    ("question", "sentence", "short"),
    [
        # A body may answer "who" and share a word with the question.
        (
            "Who applies European Union law?",
            "European Union law is applied by the Court of Justice of the European Union.",
            "Court of Justice of the European Union",
        ),
        # Without a day in the question, a sentence about some day answers.
        (
            "Where will the advisers meet?",
            "On January 3, a meeting of security advisers will take place in Kyiv.",
            "Kyiv",
        ),
        # The source a sentence quotes answers a question about who said it ...
        (
            "Who said the framework was brokered with Turkish mediation?",
            "According to Umerov, the framework was brokered with Turkish mediation.",
            "Umerov",
        ),
        # ... and a speaker who reports on himself answers what he did.
        (
            "Who held consultations in the Emirates?",
            "Rustem Umerov said he had held consultations in the Emirates.",
            "Rustem Umerov",
        ),
    ],
)
def test_a_factoid_is_answered_where_no_rule_withholds_it(
    tmp_path: Path, question: str, sentence: str, short: str
) -> None:
    article = OneArticle(tmp_path, "News", [sentence, "Rain fell all week."], abstain_threshold=0.0)
    answer = article.composer.compose(question, [article.scored(sentence, 0.9)])
    assert answer.short_answer is not None and answer.short_answer.text == short


@pytest.mark.parametrize(
    ("sentence", "short"),
    [
        ("According to Umerov, the framework was brokered with Turkish mediation in 2022.", "Turkish"),
        ("According to Umerov, the framework was brokered with outside mediation in 2022.", None),
    ],
)
def test_the_source_a_sentence_quotes_is_no_short_answer_to_who_did_what_it_reports(
    tmp_path: Path, sentence: str, short: str | None
) -> None:
    article = OneArticle(tmp_path, "News", [sentence, "Rain fell all week."], abstain_threshold=0.0)
    answer = article.composer.compose("Who mediated the prisoner exchanges?", [article.scored(sentence, 0.9)])
    # The span is cited either way (it may answer in words no tagger reads as a name), never with "Umerov".
    assert not answer.abstained and answer.citations[0].text == sentence
    assert (answer.short_answer.text if answer.short_answer else None) == short
    assert answer.quoted_source_only is (short is None)


@pytest.mark.parametrize(
    ("question", "answer_type", "broad", "narrow", "short"),
    [
        (
            "In which state will the memorial service for the activist be held?",
            AnswerType.STATE,
            "The memorial service for the activist will be held in Glendale.",
            "Organisers said the service will take place in Arizona on Sunday.",
            "Arizona",
        ),
        (
            "Which stadium will host the opening ceremony of the Games?",
            AnswerType.FACILITY,
            "The opening ceremony of the Games is taking place in Milan.",
            "The ceremony will be held at the San Siro Stadium on Friday.",
            "San Siro Stadium",
        ),
    ],
)
def test_a_question_for_a_narrower_kind_of_place_cites_a_sentence_naming_one_first(
    tmp_path: Path, question: str, answer_type: AnswerType, broad: str, narrow: str, short: str
) -> None:
    article = OneArticle(tmp_path, "News", [broad, "Rain fell all week.", narrow], abstain_threshold=0.0)
    assert classify_question(question) is answer_type
    ranked = [article.scored(broad, 0.9), article.scored(narrow, 0.5)]
    answer = article.composer.compose(question, ranked)
    assert answer.citations[0].text == narrow
    assert answer.short_answer is not None and answer.short_answer.text == short
    # Asked only "where", the place the ranker put first stays first.
    where = article.composer.compose("Where is the event?", ranked)
    assert where.citations[0].text == broad


class LabelledTagger:
    """Tags the given phrases wherever they occur, with the given labels (what spaCy would say, without spaCy)."""

    name = "labelled"

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        found = []
        for text in texts:
            spans = []
            for phrase, label in self.labels.items():
                at = text.find(phrase)
                if at >= 0:
                    spans.append((at, at + len(phrase), label))
            found.append(sorted(spans))
        return found


def tagged_article(tmp_path: Path, sentence: str, labels: dict[str, str]) -> tuple[QAPipeline, ScoredSentence]:
    """A one-sentence article whose entities are ``labels``, and that sentence as the ranker's best."""
    corpus = tmp_path / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "article.txt").write_text(f"News\n\n{sentence}\n\nRain fell all week.\n", encoding="utf-8")
    pipeline, _ = QAPipeline.from_paths(
        [corpus],
        tmp_path / "idx",
        embedder=HashingEmbedder(),
        composer=ComposerParams(abstain_threshold=0.0),
        tagger=LabelledTagger(labels),
    )
    row = next(r for r, s in enumerate(pipeline.store.sentences) if s.text == sentence)
    return pipeline, ScoredSentence(row, pipeline.store.sentences[row], 0.9, 0.5, 1.0, 1.0)


def short_text(pipeline: QAPipeline, answer: Answer) -> str | None:
    """The answer's short answer, after checking that its offsets cite exactly that text."""
    if answer.short_answer is None:
        return None
    document = pipeline.store.documents[answer.short_answer.doc_id].text
    assert document[answer.short_answer.start : answer.short_answer.end] == answer.short_answer.text
    return answer.short_answer.text


def test_a_who_short_answer_prefers_an_entity_tagged_as_a_person(tmp_path: Path) -> None:
    sentence = "President Charles W. Eliot, long after the American Civil War ended, transformed the college."
    labels = {"the American Civil War": "ORG", "Charles W. Eliot": "PERSON"}
    pipeline, best = tagged_article(tmp_path, sentence, labels)
    answer = pipeline.composer.compose("Who transformed the college?", [best])
    # The body sits nearer the question's words; the tagged person still answers "who".
    assert short_text(pipeline, answer) == "Charles W. Eliot"
    # With no person tagged, a body may still answer (the small model tags unfamiliar names as ORG).
    pipeline, best = tagged_article(tmp_path / "untagged", sentence, {"the American Civil War": "ORG"})
    answer = pipeline.composer.compose("Who transformed the college?", [best])
    assert short_text(pipeline, answer) == "the American Civil War"


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("Who did Tesla partner with?", "Robert Lane and Benjamin Vail"),
        ("Who did Tesla partner with first?", "Robert Lane"),
    ],
)
def test_a_short_answer_is_the_whole_series_of_names_joined_by_and(tmp_path: Path, question: str, short: str) -> None:
    sentence = "In 1886 Tesla partnered with Robert Lane and Benjamin Vail, who agreed to finance him."
    labels = {"Tesla": "PERSON", "Robert Lane": "PERSON", "Benjamin Vail": "PERSON", "1886": "DATE"}
    pipeline, best = tagged_article(tmp_path, sentence, labels)
    assert short_text(pipeline, pipeline.composer.compose(question, [best])) == short


@pytest.mark.parametrize(
    ("text", "spans", "best", "series"),
    [
        ("Muqali, Jebe and Subutai rode west.", [(0, 6), (8, 12), (17, 24)], (8, 12), "Muqali, Jebe and Subutai"),
        ("He studied in Graz, Austria, in 1875.", [(14, 18), (20, 27)], (14, 18), "Graz"),
        ("Germany and Switzerland sent vases.", [(0, 7), (12, 23)], (12, 23), "Germany and Switzerland"),
        ("Germany, by ship, and Switzerland sent vases.", [(0, 7), (22, 33)], (0, 7), "Germany"),
    ],
)
def test_coordinated_span_joins_a_series_only_when_and_joins_it(
    text: str, spans: list[tuple[int, int]], best: tuple[int, int], series: str
) -> None:
    typed = [TypedSpan(start, end, "GPE") for start, end in spans]
    start, end = coordinated_span(TypedSpan(*best, "GPE"), typed, text)
    assert text[start:end] == series


def test_a_how_many_short_answer_is_the_number_before_what_is_counted(tmp_path: Path) -> None:
    sentence = "The college grants degrees in 50 academic majors and 28 minors."
    pipeline, best = tagged_article(tmp_path, sentence, {"50": "CARDINAL", "28": "CARDINAL"})
    answer = pipeline.composer.compose("How many academic minors does the college grant?", [best])
    # "50" stands right before "academic", a word of the question; "28" before the noun it counts.
    assert short_text(pipeline, answer) == "28"
    majors = pipeline.composer.compose("How many academic majors does the college grant?", [best])
    assert short_text(pipeline, majors) == "50"


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("In what year did the gallery of Japanese art open?", "1986"),
        ("In which month did the gallery of Japanese art open?", "December"),
        ("When did the gallery of Japanese art open?", "December 1986"),
    ],
)
def test_a_date_short_answer_is_as_precise_as_the_question_asks(tmp_path: Path, question: str, short: str) -> None:
    sentence = "The gallery of Japanese art opened in December 1986, a year later than planned."
    labels = {"December 1986": "DATE", "a year later": "DATE"}
    pipeline, best = tagged_article(tmp_path, sentence, labels)
    assert short_text(pipeline, pipeline.composer.compose(question, [best])) == short


def test_a_year_question_prefers_a_date_that_names_a_year(tmp_path: Path) -> None:
    sentence = "Willard died a year later than his predecessor, in 1804."
    labels = {"a year later": "DATE", "1804": "DATE"}
    pipeline, best = tagged_article(tmp_path, sentence, labels)
    # "a year later" stands nearest "died"; it names no year.
    answer = pipeline.composer.compose("In what year did Willard die?", [best])
    assert short_text(pipeline, answer) == "1804"


def test_a_short_answer_stands_among_the_question_words_not_only_next_to_one(tmp_path: Path) -> None:
    sentence = (
        "In 2014 the university enrolled 5,792 students in the College, 3,468 students in its four graduate "
        "divisions and 5,984 students in its professional schools."
    )
    labels = {"2014": "DATE", "5,792": "CARDINAL", "3,468": "CARDINAL", "5,984": "CARDINAL"}
    pipeline, best = tagged_article(tmp_path, sentence, labels)
    # Every number stands right before "students"; only 5,984 has "professional schools" beside it too.
    answer = pipeline.composer.compose("How many students signed up for its professional schools?", [best])
    assert short_text(pipeline, answer) == "5,984"


def test_a_who_question_with_no_name_in_the_span_is_answered_by_the_doer_of_its_verb(tmp_path: Path) -> None:
    sentence = "During construction, the municipal building inspector inspects the site periodically."
    pipeline, best = tagged_article(tmp_path, sentence, {})
    answer = pipeline.composer.compose("Who inspects the site periodically?", [best])
    assert not answer.abstained
    assert short_text(pipeline, answer) == "the municipal building inspector"
    # A span that does not say who does it is still abstained on for want of a person.
    unsaid = pipeline.composer.compose("Who approves the site periodically?", [best])
    assert unsaid.abstained


def test_a_where_question_with_no_place_named_is_answered_by_the_place_after_its_verb(tmp_path: Path) -> None:
    sentence = "After the defeat, American troops remained stationed in the kingdom, and cooperation grew."
    pipeline, best = tagged_article(tmp_path, sentence, {"American": "NORP"})
    answer = pipeline.composer.compose("Where did American troops remain stationed?", [best])
    assert not answer.abstained
    assert short_text(pipeline, answer) == "the kingdom"
    # No word of the question stands before a place in the span: nothing says where.
    assert pipeline.composer.compose("Where did the envoys meet?", [best]).abstained


def test_a_question_ending_in_its_question_word_gets_the_words_standing_there(tmp_path: Path) -> None:
    sentence = "Comb-like bands of cilia are called ctenes, and they beat in waves."
    pipeline, best = tagged_article(tmp_path, sentence, {})
    answer = pipeline.composer.compose("Comb-like bands of cilia are called what?", [best])
    assert short_text(pipeline, answer) == "ctenes"
    # Asked the usual way, the name after "called" answers too; a description with no such cue has none.
    assert short_text(pipeline, pipeline.composer.compose("What are bands of cilia called?", [best])) == "ctenes"
    assert short_text(pipeline, pipeline.composer.compose("What do the bands of cilia do?", [best])) is None


@pytest.mark.parametrize(
    ("question", "sentence", "short"),
    [
        ("When was the cabinet dated?", "The cabinet, made in Dresden in 12 parts, is dated c1750.", "c1750"),
        ("When did the warming begin?", "Rapid warming, over 3 regions, began about 13,000 BP.", "13,000 BP"),
        (
            "When did Menich serve as President?",
            "The 40 councils met in 1600–1650, and the first President was Menich (1695–1696).",
            "1695–1696",
        ),
    ],
)
def test_a_date_question_is_answered_by_a_year_the_tagger_missed(
    tmp_path: Path, question: str, sentence: str, short: str
) -> None:
    # The tagger found only counts; of two years, the one nearest the question's words answers.
    pipeline, best = tagged_article(tmp_path, sentence, {"12": "CARDINAL", "3": "CARDINAL", "40": "CARDINAL"})
    assert short_text(pipeline, pipeline.composer.compose(question, [best])) == short


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("Who did the morphological analysis?", "Richard Harbison"),
        ("Whose analysis showed it?", "Richard Harbison's"),
    ],
)
def test_a_possessive_is_cut_from_a_short_answer_unless_whose_asks(tmp_path: Path, question: str, short: str) -> None:
    sentence = "Richard Harbison's morphological analysis in 1985 showed it."
    pipeline, best = tagged_article(tmp_path, sentence, {"Richard Harbison's": "PERSON", "1985": "DATE"})
    assert short_text(pipeline, pipeline.composer.compose(question, [best])) == short


def test_a_what_kind_of_question_gets_the_qualifier_but_a_list_question_does_not(tmp_path: Path) -> None:
    sentence = "Sudan had an Islamist regime under Hassan al-Turabi for many years."
    pipeline, best = tagged_article(tmp_path, sentence, {"Sudan": "GPE", "Hassan al-Turabi": "PERSON"})
    assert short_text(pipeline, pipeline.composer.compose("What kind of regime ruled Sudan?", [best])) == "Islamist"
    # "What types of ...?" asks for several kinds: one qualifier would answer it only in part.
    assert short_text(pipeline, pipeline.composer.compose("What types of regimes ruled Sudan?", [best])) is None
