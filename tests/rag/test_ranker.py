from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.ranker import FEATURES, LinearRanker, RankerError, load_ranker


def test_shipped_ranker_loads_and_uses_every_feature() -> None:
    ranker = load_ranker()
    assert ranker.features == FEATURES
    assert ranker.coef.shape == (len(FEATURES),)
    assert "cv_hit_at_1" in ranker.meta


def test_probabilities_follow_the_weights() -> None:
    n = len(FEATURES)
    coef = np.zeros(n)
    coef[FEATURES.index("dense")] = 2.0
    ranker = LinearRanker(FEATURES, np.zeros(n), np.ones(n), coef, 0.0)
    x = np.zeros((2, n))
    x[0, FEATURES.index("dense")] = 0.9
    x[1, FEATURES.index("dense")] = 0.1
    p = ranker.probabilities(x)
    assert p[0] > p[1] and np.all((p > 0) & (p < 1))


def test_round_trip_through_json(tmp_path: Path) -> None:
    n = len(FEATURES)
    ranker = LinearRanker(FEATURES, np.arange(n) / 10, np.ones(n), np.linspace(-1, 1, n), 0.5, {"note": "x"})
    path = tmp_path / "r.json"
    path.write_text(json.dumps(ranker.to_dict()), encoding="utf-8")
    loaded = load_ranker(path)
    x = np.random.default_rng(0).normal(size=(4, n))
    assert np.allclose(loaded.probabilities(x), ranker.probabilities(x))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"features": ["dense"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0}', "other features"),
        ('{"features": []}', "is not a ranker model"),
    ],
)
def test_bad_model_files_are_refused_by_name(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RankerError, match=message) as error:
        load_ranker(path)
    assert str(path) in str(error.value)


def test_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RankerError, match=r"cannot read ranker model .*missing\.json"):
        load_ranker(tmp_path / "missing.json")
