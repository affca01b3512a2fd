"""The uncounted-rule benchmark: its command line and its tally on a small SQuAD-shaped file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.uncounted_rule import main, squad_tally


def test_a_missing_data_path_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--squad", str(tmp_path / "absent.json")])
    assert exited.value.code == 2
    assert "--squad: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["--squad", str(tmp_path / "absent.json"), "--realtimeqa", str(tmp_path)])
    assert exited.value.code == 2


def test_the_squad_tally_separates_lost_answers_from_caught_abstentions(tmp_path: Path) -> None:
    counted = "The club has 40 members and a large garden. Its children play on Sundays."
    other = "The club was founded by teachers. The children later moved away."
    data = {
        "data": [
            {
                "title": "Club",
                "paragraphs": [
                    {
                        "context": counted,
                        "qas": [
                            {"question": "How many members does the club have?", "answers": [{"text": "40"}]},
                            {"question": "How many children play?", "answers": [{"text": "Its children"}]},
                        ],
                    },
                    {"context": other, "qas": [{"question": "Who founded it?", "answers": [{"text": "teachers"}]}]},
                ],
            }
        ]
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    tally, questions = squad_tally(path)
    assert questions == 3
    # Answerable: "members" is counted (kept); "children" is mentioned, never counted (lost).
    assert (tally.answerable, tally.answerable_fired) == (2, 1)
    # Without the first paragraph, "40" occurs nowhere: its twin is unanswerable and "members" is no
    # longer in the article at all, so the rule has nothing to go on; "Its children" also occurs nowhere
    # else, and "children" is mentioned but not counted there: caught.
    assert (tally.unanswerable, tally.unanswerable_fired) == (2, 1)
