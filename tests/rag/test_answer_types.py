from __future__ import annotations

from pathlib import Path

import pytest

from rag import places
from rag.answer_types import (
    AnswerType,
    answer_spans,
    classify_question,
    has_cue,
    names_a_body,
    names_the_asked_person,
    question_words,
)
from rag.embedding import HashingEmbedder
from rag.entities import Entity
from rag.pipeline import QAPipeline
from rag.places import is_country, is_state


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many prisoners were exchanged?", AnswerType.QUANTITY),
        ("How much did the deal cost?", AnswerType.QUANTITY),
        ("What is the population of Canada?", AnswerType.QUANTITY),
        ("What was the list price of the phone?", AnswerType.QUANTITY),
        ("What is the main issue ahead of the talks?", AnswerType.DESCRIPTION),
        ("When will the meeting take place?", AnswerType.DATE),
        ("On what date did Umerov report?", AnswerType.DATE),
        ("Who mediated the Istanbul agreements?", AnswerType.PERSON),
        ("Which Russian official did Umerov meet?", AnswerType.PERSON),
        ("Which organisation runs the camps?", AnswerType.ORGANISATION),
        ("Which country offered to host the talks?", AnswerType.COUNTRY),
        ("In which Ukrainian city will the meeting be held?", AnswerType.CITY),
        ("What town did the convoy reach?", AnswerType.CITY),
        ("Which region was shelled?", AnswerType.PLACE),
        ("In which state was the memorial service held?", AnswerType.STATE),
        ("Which famous stadium will host the opening ceremony?", AnswerType.FACILITY),
        ("Where is the stadium?", AnswerType.PLACE),
        ("Where will the leaders meet?", AnswerType.PLACE),
        ("Why does the council want the vote before March?", AnswerType.REASON),
        ("What categories of prisoners were prioritised?", AnswerType.LIST),
        ("In which domains must the guarantees work?", AnswerType.LIST),  # common nouns, not a named entity
        ("Which sectors does the sanction cover?", AnswerType.LIST),
        ("Which areas were flooded?", AnswerType.ENTITY),  # places may answer: not a kind of thing
        ("Are civilians part of the negotiations?", AnswerType.YES_NO),
        ("What is the current status of the exchange?", AnswerType.DESCRIPTION),
        # A later "when", "where" or "who" opens a clause; the "what" before it is what is asked.
        ("What did the Church do when Luther refused to retract?", AnswerType.DESCRIPTION),
        ("What was the first Doctor Who show the channel ran?", AnswerType.DESCRIPTION),
        ("What is the region where protestants are concentrated?", AnswerType.DESCRIPTION),
        ("In what year was the first Doctor Who audiobook released?", AnswerType.DATE),
        ("Which team did he play for when he was in the final?", AnswerType.ORGANISATION),
        ("Who did what when the talks began?", AnswerType.PERSON),
        # "What is the name of the X ...?" asks what "Which X ...?" asks: the noun says the kind.
        ("What is the name of the state the region extends into?", AnswerType.STATE),
        ("What was the name of the company the businessmen financed?", AnswerType.ORGANISATION),
        ("What is the name of the desert near the border?", AnswerType.ENTITY),
        ("What is the name of the Turkish intelligence chief Umerov met?", AnswerType.PERSON),
        ("What is the name of Russia's defence minister?", AnswerType.PERSON),
        ("What is another name for the exchange format?", AnswerType.DESCRIPTION),
        ("Which German architect designed the museum?", AnswerType.PERSON),
        ("What did Kremlin spokesman Dmitry Peskov say?", AnswerType.DESCRIPTION),
        # An opening "When ..., " or "If ..., " sets the scene; the question word after it is what is asked.
        ("When a plant is injured, what can become proplastids?", AnswerType.DESCRIPTION),
        ("If the talks fail, which country will host the next round?", AnswerType.COUNTRY),
        ("When did the talks fail, and who said so?", AnswerType.DATE),
        ("How long did the ceasefire hold?", AnswerType.DURATION),
        ("How old was the commander when he was captured?", AnswerType.DURATION),
        ("How many rounds of talks were held?", AnswerType.QUANTITY),
    ],
)
def test_classify_question(question: str, expected: AnswerType) -> None:
    assert classify_question(question) is expected


def test_a_length_of_time_is_answered_by_a_span_of_time_and_not_by_a_date_without_one() -> None:
    text = "The annual talks, held since 2019, took three years; today the ceasefire holds."
    entities = [Entity(4, 10, "DATE"), Entity(29, 33, "DATE"), Entity(40, 51, "DATE"), Entity(53, 58, "DATE")]
    asked = question_words("How long did the talks take?")
    spans = answer_spans(AnswerType.DURATION, entities, text, asked)
    assert [text[s.start : s.end] for s in spans] == ["2019", "three years"]  # not "annual", not "today"
    assert answer_spans(AnswerType.QUANTITY, entities, text, asked) == []  # a count is never a date


def test_answer_spans_skip_entities_the_question_already_names() -> None:
    text = "Ukraine and Russia swapped 84 soldiers in Istanbul on May 16."
    entities = [
        Entity(0, 7, "GPE"),
        Entity(12, 18, "GPE"),
        Entity(27, 29, "CARDINAL"),
        Entity(42, 50, "GPE"),
        Entity(54, 60, "DATE"),
    ]
    asked = question_words("Where did Ukraine and Russia swap soldiers?")
    assert [text[s.start : s.end] for s in answer_spans(AnswerType.PLACE, entities, text, asked)] == ["Istanbul"]
    asked = question_words("How many soldiers did Ukraine and Russia swap?")
    assert [text[s.start : s.end] for s in answer_spans(AnswerType.QUANTITY, entities, text, asked)] == ["84"]
    assert answer_spans(AnswerType.DESCRIPTION, entities, text, asked) == []


def test_a_city_question_is_not_answered_by_a_country() -> None:
    text = "Umerov visited Turkey and met Fidan in Ankara; Singapore hosted the next round."
    entities = [Entity(15, 21, "GPE"), Entity(39, 45, "GPE"), Entity(47, 56, "GPE")]
    asked = question_words("In which city did Umerov meet Fidan?")
    assert [text[s.start : s.end] for s in answer_spans(AnswerType.CITY, entities, text, asked)] == [
        "Ankara",
        "Singapore",
    ]
    assert len(answer_spans(AnswerType.PLACE, entities, text, asked)) == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Türkiye", True),
        ("Turkey", True),
        ("the United Kingdom", True),
        ("Russia", True),
        ("Iran", True),
        ("Ankara", False),
        ("Singapore", False),
        ("Kyiv", False),
    ],
)
def test_country_names(name: str, expected: bool) -> None:
    assert is_country(name) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Arizona", True), ("New South Wales", True), ("Türkiye", True), ("Glendale", False), ("Kyiv", False)],
)
def test_state_names(name: str, expected: bool) -> None:
    assert is_state(name) is expected


def test_reason_and_list_cues() -> None:
    assert has_cue(AnswerType.REASON, "The vote was delayed because the count was late.")
    assert not has_cue(AnswerType.REASON, "The vote was delayed.")
    assert has_cue(AnswerType.LIST, "This includes the wounded and the seriously ill.")
    assert not has_cue(AnswerType.DATE, "because")


@pytest.mark.parametrize(
    ("entity", "question", "expected"),
    [
        ("Rustem Umerov", "What is the name of the Turkish intelligence chief Umerov met?", True),
        ("Volodymyr Zelenskyy", "Who did Zelenskyy hold a press conference with?", True),
        ("Rustem Umerov", "With whom did Rustem Umerov discuss the exchange?", True),
        ("Nicolas Chopin", "Who was Frédéric Chopin's father?", False),
        ("Medinsky", "With whom did Rustem Umerov discuss the exchange?", False),
        ("Li", "Who did Li meet?", False),
        ("David G. Booth", "Who made a large donation to the university's Booth School of Business?", False),
    ],
)
def test_the_person_the_question_names_is_told_from_another(entity: str, question: str, expected: bool) -> None:
    assert names_the_asked_person(entity, question) is expected


def test_a_body_tagged_like_a_name_is_not_read_as_a_person() -> None:
    assert names_a_body("ORG", "the National Security Council")
    assert names_a_body("NAME", "Ministry of Defence")
    assert not names_a_body("PERSON", "Security Council")  # the tagger said person: believe it
    assert not names_a_body("ORG", "Medinsky")


def test_the_pipeline_warm_up_reads_the_place_names(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Talks\nThe talks were held in Ankara.\n", encoding="utf-8")
    pipeline, _ = QAPipeline.from_paths([corpus], tmp_path / "idx", embedder=HashingEmbedder())
    places._country_names.cache_clear()
    places._state_names.cache_clear()
    pipeline.warm_up()
    assert places._country_names.cache_info().currsize == 1
    assert places._state_names.cache_info().currsize == 1
