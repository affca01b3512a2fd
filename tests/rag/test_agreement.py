from __future__ import annotations

import pytest

from rag.agreement import (
    LAST,
    asked_subject,
    asks_about_speech,
    conflicting_day,
    counted_head,
    counted_quantity,
    counted_terms,
    counted_words,
    counts_asked,
    counts_what_follows,
    date_granularity,
    days_of_month,
    defines_subject,
    granularity_span,
    has_granularity,
    numbered_members,
    ordinal_agreement,
    ordinals,
    reported_speaker,
)
from rag.answer_types import question_words
from rag.pipeline import QAPipeline
from rag.ranker import FEATURES, sentence_features


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("When did the opening round of the talks take place?", {1}),
        ("The first round, held on May 16, resulted in an agreement.", {1}),
        ("On what date was the 2nd round held?", {2}),
        ("What was the date of the last of the three sessions?", {3}),
        ("The final round ended without a deal.", {LAST}),
        ("Last year the talks stalled; at first nobody came.", set()),
        ("The second and third rounds were held in Istanbul.", {2, 3}),
        ("No ordinal here, only 3 rounds.", set()),
    ],
)
def test_ordinals_are_read_from_the_wording(text: str, expected: set[int]) -> None:
    assert ordinals(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("When was the second round?", "The second round, on June 2, established ...", 1.0),
        ("When was the second round?", "The third round of talks took place on July 23.", -1.0),
        ("When was the second round?", "Talks took place in Istanbul.", 0.0),
        ("When was the final round?", "The third round of talks took place on July 23.", 0.0),
        ("When were the talks?", "The third round of talks took place on July 23.", 0.0),
    ],
)
def test_agreement_rewards_the_asked_ordinal_and_penalises_another(
    question: str, sentence: str, expected: float
) -> None:
    assert ordinal_agreement(ordinals(question), sentence) == expected


def test_the_ranker_sees_the_agreement_of_each_candidate(fake_pipeline: QAPipeline) -> None:
    retriever = fake_pipeline.retriever
    question = "On what date was the second round of talks in Istanbul held?"
    passages = retriever.search(question, 8)
    found = retriever.sentence_signals(question, passages)
    assert found is not None
    signals, _ = found
    assert signals.ordinal is not None
    texts = {row: retriever.store.sentences[row].text for row in signals.rows}
    by_text = dict(zip((texts[r] for r in signals.rows), signals.ordinal, strict=True))
    second = next(value for text, value in by_text.items() if text.startswith("The second round"))
    third = next(value for text, value in by_text.items() if text.startswith("The third round"))
    assert (second, third) == (1.0, -1.0)
    features = sentence_features(signals)
    assert features[:, FEATURES.index("ordinal_agreement")].tolist() == signals.ordinal.tolist()


def test_the_ranker_sees_which_candidates_count_what_is_asked(fake_pipeline: QAPipeline) -> None:
    retriever = fake_pipeline.retriever
    question = "How many prisoner exchanges have occurred between Ukraine and Russia in 2025?"
    found = retriever.sentence_signals(question, retriever.search(question, 16))
    assert found is not None
    signals, _ = found
    assert signals.counted is not None
    counting = {retriever.store.sentences[row].text for row, c in zip(signals.rows, signals.counted, strict=True) if c}
    assert any("multiple prisoner exchanges" in text for text in counting)
    assert not any("1,200 Ukrainians" in text for text in counting)
    column = sentence_features(signals)[:, FEATURES.index("counts_asked")]
    assert column.tolist() == signals.counted.tolist()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many prisoner exchanges have occurred in 2025?", {"priso", "excha"}),
        ("How many sessions of peace talks did the sides hold?", {"sessi", "peace", "talks"}),
        ("How many Ukrainians does Kyiv hope to free?", {"ukrai"}),
        ("When did the talks start?", set()),
    ],
)
def test_the_counted_phrase_ends_at_the_verb(question: str, expected: set[str]) -> None:
    assert counted_terms(question) == frozenset(expected)


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("How many Ukrainian children have been deported to Russia?", "children"),
        ("How many bodies of fallen soldiers were repatriated?", "bodies"),
        ("How many Panthers went to the Pro Bowl?", "panthers"),
        ("How many Grammy Awards has she won?", "awards"),
        ("How many police officers' unions signed?", "unions"),
        ("How many settlers originally settled there?", "settlers"),
        ("How many miles east of Berlin is Warsaw?", None),  # a unit: written too many ways
        ("How many times has the city hosted the Games?", None),
        ("How many region winners?", "winners"),
        ("How many are left?", None),  # no noun: nothing to look for
        ("When did the talks start?", None),
    ],
)
def test_the_counted_head_is_the_plural_noun_before_the_verb(question: str, head: str | None) -> None:
    assert counted_head(question) == head


def test_counted_words_give_every_quantity_its_own_words() -> None:
    # Read ahead, not consumed: "11" is counted again after "194 yards and".
    assert "downs" in counted_words("(21 to 11). Their 194 yards and 11 first downs were the lowest.")
    assert "campuses" in counted_words("These include 5 University of California campuses.")
    assert "children" not in counted_words("We are working to return our kidnapped Ukrainian children as well.")
    assert counted_words("No numbers here at all.") == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Ukraine and Russia have conducted multiple prisoner exchanges this year.", 1.0),
        ("The sides carried out 5 exchanges of prisoners.", 1.0),
        ("Kyiv expects to free around 1,200 Ukrainians from captivity.", 0.0),
        ("Prisoner exchanges resumed in May.", 0.0),
    ],
)
def test_a_quantity_counts_the_asked_noun_only_when_it_stands_before_it(sentence: str, expected: float) -> None:
    counted = counted_terms("How many prisoner exchanges have occurred in 2025?")
    assert counts_asked(counted, sentence) == expected
    assert counts_asked(frozenset(), sentence) == 0.0


@pytest.mark.parametrize(
    ("sentence", "quantity"),
    [
        ("Ukraine and Russia have conducted multiple prisoner exchanges this year.", "multiple"),
        ("Since May, Several exchanges of prisoners took place.", "Several"),
        ("Straße talks: the sides carried out 5 exchanges of prisoners.", "5"),
        ("Kyiv expects to free around 1,200 Ukrainians from captivity.", None),
    ],
)
def test_the_counted_quantity_is_found_where_it_stands_in_the_text(sentence: str, quantity: str | None) -> None:
    counted = counted_terms("How many prisoner exchanges have occurred in 2025?")
    found = counted_quantity(counted, sentence)
    assert (sentence[found[0] : found[1]] if found else None) == quantity


@pytest.mark.parametrize(
    ("question", "sentence", "granularity", "expected"),
    [
        ("What day of the week did he speak?", "In a video posted on Sunday, he said ...", "weekday", 1.0),
        ("What day of the week did he speak?", "He spoke on June 2.", "weekday", 0.0),
        ("In what year was the treaty signed?", "The treaty was signed in 1991.", "year", 1.0),
        ("In what year after 1990 was it signed?", "It was signed after 1990.", "year", 0.0),
        ("Which decade saw the boom?", "The boom came in the 1990s.", "decade", 1.0),
        ("Which decade saw the boom?", "Several parties and cities took part.", "decade", 0.0),
        ("When was the treaty signed?", "The treaty was signed in 1991.", None, 0.0),
    ],
)
def test_a_date_as_precise_as_asked_that_the_question_did_not_name(
    question: str, sentence: str, granularity: str | None, expected: float
) -> None:
    assert date_granularity(question) == granularity
    assert has_granularity(date_granularity(question), sentence, question_words(question)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On January 3, advisers meet; on January 6 the leaders do.", {(1, 3), (1, 6)}),
        ("The talks end on 6 January or the 7th of January.", {(1, 6), (1, 7)}),
        ("The talks were held in May of this year.", set()),
        ("He scored 3 goals in June 2024.", set()),
    ],
)
def test_days_of_the_month_are_read_from_the_wording(text: str, expected: set[tuple[int, int]]) -> None:
    assert days_of_month(text) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("On January 3, a meeting of national security advisors will take place in Ukraine.", True),
        ("The leaders will meet in Paris on January 6.", False),
        ("Advisers meet on January 3 and the leaders on January 6.", False),
        ("The leaders will meet in Paris.", False),  # names no day: no conflict
    ],
)
def test_a_sentence_about_another_day_conflicts(sentence: str, expected: bool) -> None:
    assert conflicting_day("Where will the leaders meet on January 6?", sentence) is expected
    assert not conflicting_day("Where will the leaders meet?", sentence)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the main issue, according to Zelensky, ahead of the January meetings?", "main issue"),
        ("What was the result of the battle?", "result"),
        ("What are the Istanbul agreements?", "istanbul agreements"),
        ("What is the current status of the exchange?", "current status"),
        ("What was the Kremlin's response?", None),  # "the Kremlin's": not a phrase that is defined
        ("What did the council say?", None),
        ("Who is the main negotiator?", None),
    ],
)
def test_the_subject_a_what_is_question_asks_to_define(question: str, expected: str | None) -> None:
    assert asked_subject(question) == expected


def test_a_sentence_defines_the_subject_when_it_says_what_it_is() -> None:
    assert defines_subject("main issue", '"The main issue is security guarantees for Ukraine.')
    assert not defines_subject("main issue", "The meeting will address the main issue of security.")
    assert not defines_subject("issue", "The tissue is soft.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The second round, on June 2, set two categories.", {(2, "round")}),
        ("The third round of talks took place on July 23.", {(3, "round")}),
        ("After the first session and the second vote ...", {(1, "session"), (2, "vote")}),
        ("At first the talks stalled.", set()),  # "at first" is no ordinal
        ("Earlier rounds of talks were held in Istanbul.", set()),
    ],
)
def test_numbered_members_of_a_series_are_read_with_their_noun(text: str, expected: set[tuple[int, str]]) -> None:
    assert numbered_members(text) == expected


@pytest.mark.parametrize(
    ("sentence", "name", "expected"),
    [
        ("According to Umerov, the framework was brokered with Turkish mediation.", "Umerov", True),
        ("According to Security chief Rustem Umerov, the talks resume.", "Rustem Umerov", True),
        ("“We will win,” said David Cohen, a political scientist.", "David Cohen", True),
        ("Steiner told Reuters that the agency would run out of cash.", "Steiner", True),
        ("Zelenskyy, speaking in Kyiv, added that talks would resume.", "Zelenskyy", True),
        # The speaker is also who the reported clause is about.
        ("Rustem Umerov said he had held consultations in Türkiye.", "Rustem Umerov", False),
        ("Talarico won the primary on Tuesday, the newspaper said.", "Talarico", False),
        ("Zelenskyy met Erdogan in Ankara.", "Erdogan", False),
        ("Zelenskyy told Umerov to resume the talks.", "Umerov", False),  # spoken to, not quoted
    ],
)
def test_a_name_that_is_the_source_of_the_sentences_words_is_a_reported_speaker(
    sentence: str, name: str, expected: bool
) -> None:
    start = sentence.index(name)
    assert reported_speaker(sentence, start, start + len(name)) is expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who said the talks had stalled?", True),
        ("Who announced the exchange?", True),
        ("According to whom will the swap happen?", True),
        ("Who mediated the prisoner exchanges?", False),
        ("Who won the primary?", False),
    ],
)
def test_a_question_asks_about_speech_when_it_asks_who_said_something(question: str, expected: bool) -> None:
    assert asks_about_speech(question) is expected


@pytest.mark.parametrize(
    ("head", "following", "counts"),
    [
        ("minors", " minors.", True),
        ("minors", " academic majors and 28 minors.", False),
        ("countries", " different countries", True),
        ("children", " of the children", True),
        ("children", ", officials said", False),
    ],
)
def test_counts_what_follows_reads_the_three_words_after_a_number(head: str, following: str, counts: bool) -> None:
    assert counts_what_follows(head, following) is counts


@pytest.mark.parametrize(
    ("granularity", "text", "found"),
    [
        ("year", "March 2009", "2009"),
        ("year", "the 1906 season", "1906"),
        ("month", "May of this year", "May"),
        ("year", "a year later", None),
        ("month", "in the spring", None),
    ],
)
def test_granularity_span_finds_the_asked_part_of_a_date(granularity: str, text: str, found: str | None) -> None:
    span = granularity_span(granularity, text)
    assert (None if span is None else text[span[0] : span[1]]) == found
