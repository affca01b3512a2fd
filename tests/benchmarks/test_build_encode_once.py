from benchmarks.build_encode_once import verdict


def test_verdict_names_what_candidates_gain_and_lose_when_none_is_kept() -> None:
    text = verdict({"a": False, "b": False}, {"dev mrr": None}, {"dev first": None, "faq sas": None})
    assert text.startswith("The shipped build is kept")
    assert "gain dev mrr" in text
    assert "lose dev first, faq sas" in text


def test_verdict_names_the_candidates_no_worse_than_shipped() -> None:
    assert verdict({"a": False, "b": True}, {"dev mrr": None}, {"dev first": None}) == (
        "No metric is worse than shipped for: b."
    )
