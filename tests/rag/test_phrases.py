from __future__ import annotations

import pytest

from rag.answer_types import question_words
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


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who acts as the project coordinator?", ("acts", ("project", "coordinator"))),
        ("In most contracts, who applies expertise to a valuation?", ("applies", ("expertise", "valuation"))),
        ("Who is the president?", None),  # a copula: who is, not who does
        ("Who did Tesla refuse to see?", None),  # an auxiliary: Tesla is the doer, not whom it asks for
        ("What did the owner produce?", None),
    ],
)
def test_the_predicate_a_who_question_asks_about(question: str, expected: tuple[str, tuple[str, ...]] | None) -> None:
    assert asked_predicate(question) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "subject"),
    [
        (
            "Who acts as laborer for a renovation project?",
            "Often, the owner of the property acts as laborer for the entire project.",
            "the owner of the property",
        ),
        (
            "Who applies expertise to a valuation?",
            "Cost engineers and estimators apply expertise to it.",
            "Cost engineers and estimators",
        ),
        (
            "Who criticised the security bill?",
            "Opposition politicians, human rights groups, and nine Western countries criticised the security bill.",
            "Opposition politicians, human rights groups, and nine Western countries",
        ),
        # "inspector" is not a form of "inspects"; the verb after it is.
        (
            "Who inspects the building?",
            "Then the building inspector inspects the building.",
            "Then the building inspector",
        ),
        ("Who described the equilibrium first?", "The equilibrium was described first by Galileo.", None),  # passive
        ("Who inspects the building?", "He inspects the building.", None),  # a pronoun names nobody
        ("Who acts as the project coordinator?", "The architect acts as a witness in court.", None),
    ],
)
def test_the_subject_of_the_asked_predicate(question: str, sentence: str, subject: str | None) -> None:
    predicate = asked_predicate(question)
    assert predicate is not None
    found = predicate_subject(predicate, sentence)
    assert (sentence[found[0] : found[1]] if found else None) == subject


def test_the_words_of_a_where_question() -> None:
    assert asked_place_words("Where did American troops remain stationed?") == (
        "american",
        "troops",
        "remain",
        "stationed",
    )
    assert asked_place_words("When did the troops leave?") is None


@pytest.mark.parametrize(
    ("question", "sentence", "place"),
    [
        (
            "Where did American troops remain stationed after the defeat?",
            "The problem stayed, since American troops remained stationed in the kingdom, and cooperation grew.",
            "the kingdom",
        ),
        (
            "Where do Apicomplexans store energy?",
            "They store energy in starch granules that are located in cells.",
            "starch granules",
        ),
        (
            "Where does the Rhine flow now?",
            "It now flows parallel to the canalized Rhine into the lake.",
            "the canalized Rhine",
        ),
        (
            "Where did he claim he would send energy?",
            "He wrote in a letter to have sent it.",
            None,
        ),  # no verb of the question
        ("Where is the agreement signed?", "The agreement was signed in a", None),  # no place after the preposition
    ],
)
def test_the_place_a_preposition_puts_after_the_asked_verb(question: str, sentence: str, place: str | None) -> None:
    words = asked_place_words(question)
    assert words is not None
    found = place_after_verb(words, sentence)
    assert (sentence[found[0] : found[1]] if found else None) == place


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        ("The largest projects are known as what?", "The largest projects are known as megaprojects.", "megaprojects"),
        (
            "A subcontractor has a contractual relationship with whom?",
            "Any subcontractor has a direct contractual relationship with the main contractor, not the owner.",
            "the main contractor",
        ),
        (
            "The procedure continues until what?",
            "The procedure continues until the building is ready to occupy.",
            "the building is ready to occupy",
        ),
        (
            "What are the largest projects known as?",
            "The largest projects are known as megaprojects.",
            None,
        ),  # not in place
        ("The largest projects are known as what?", "The largest projects are known as, say, giants.", None),  # a break
        ("The largest projects are known as what?", "They are rare.", None),
    ],
)
def test_a_question_asking_in_place_is_answered_by_what_stands_there(
    question: str, sentence: str, answer: str | None
) -> None:
    found = in_place_answer(question, sentence)
    assert (sentence[found[0] : found[1]] if found else None) == answer


def test_a_year_the_tagger_missed_is_found_nearest_the_question_words() -> None:
    sentence = "The cabinet was made c1750 in Dresden; the Becket casket, c1180."
    found = written_year(sentence, question_words("To which year is the Becket casket dated?"))
    assert found is not None and sentence[found[0] : found[1]] == "c1180"
    assert written_year("It was made in 1750.", question_words("When was it made?")) is None  # tagged as a date


@pytest.mark.parametrize(
    ("question", "sentence", "name"),
    [
        (
            "What is the jelly-like substance called?",
            "Between them lies a jelly-like substance, called the mesoglea in cnidarians.",
            "the mesoglea",
        ),
        ("What are tumors of the skin known as?", "Cancerous tumors of the skin are known as melanomas.", "melanomas"),
        (
            "What is the search feature called?",
            'The search feature is called "Search the Collections," and is new.',
            "Search the Collections",
        ),
        # "known as" about another thing, far from the question's words.
        (
            "What are tumors of the skin known as?",
            "Tumors of the skin grow fast, and the enzyme they make is known as tyrosinase.",
            None,
        ),
        ("What is the feature named?", "The feature was named for its inventor.", None),  # named for, not a name
        ("What did they call the feature?", "The feature is called Search.", None),  # not asked this way
    ],
)
def test_the_name_a_what_is_it_called_question_asks_for(question: str, sentence: str, name: str | None) -> None:
    found = name_given(question, sentence)
    assert (sentence[found[0] : found[1]] if found else None) == name


@pytest.mark.parametrize(
    ("question", "sentence", "kind"),
    [
        (
            "What kind of climate does the region have?",
            "The region has a Mediterranean climate, with little rain.",
            "Mediterranean",
        ),
        (
            "What sort of motion did the engine continuously produce?",
            "Watt's engine produced continuous rotary motion.",
            "rotary",
        ),
        (
            "What type of engines replaced steam?",
            "Electric motors and internal combustion engines replaced it.",
            "internal combustion",
        ),
        ("What kind of membrane do the cells have?", "The cells have three membranes.", None),  # a count is no kind
        ("What kind of membrane do the cells have?", "The cells are thin.", None),
        ("Which membrane do the cells have?", "The cells have a double membrane.", None),  # not asked this way
    ],
)
def test_the_kind_a_what_type_of_question_asks_for(question: str, sentence: str, kind: str | None) -> None:
    found = kind_modifier(question, sentence, question_words(question))
    assert (sentence[found[0] : found[1]] if found else None) == kind


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        ("What is a growing sport in the region?", "Rugby is also a growing sport in the region.", "Rugby"),
        ("What is a new trend in teaching?", "Co-teaching has also become a new trend in schools.", "Co-teaching"),
        (
            "What is the largest sensory feature?",
            "The largest single sensory feature is the aboral organ.",
            "the aboral organ",
        ),
        ("What is the delta bounded by?", "The delta is delimited in the west by the old river.", None),  # a passive
        ("What is the largest sensory feature?", "The feature is small.", None),
        ("Which feature is the largest?", "The largest feature is the organ.", None),  # not asked this way
    ],
)
def test_what_a_what_is_the_x_question_asks_for_where_the_sentence_says_it_with_is(
    question: str, sentence: str, answer: str | None
) -> None:
    found = copula_answer(question, sentence)
    assert (sentence[found[0] : found[1]] if found else None) == answer
