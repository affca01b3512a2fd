"""`rag eval` as a quality gate: the FAQ and development sets must not fall below measured floors.

Floors sit a little under the values measured when they were set (docs/evaluation.md), so a
change that makes answers worse fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main
from tests.conftest import DEV_GOLD, SEEDS

pytestmark = [pytest.mark.slow, pytest.mark.integration]

FAQ_GOLD = SEEDS / "004_286debfea32733cf.txt"


@pytest.fixture()
def eval_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_settings: object, real_pipeline: object) -> Path:
    """Point the CLI at the real-model index the session already built."""
    monkeypatch.setenv("RAG_SEEDS_DIR", str(real_settings.seeds_dir))  # type: ignore[attr-defined]
    monkeypatch.setenv("RAG_INDEX_DIR", str(real_settings.index_dir))  # type: ignore[attr-defined]
    return tmp_path


def test_dev_set_meets_its_floors(eval_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = eval_env / "dev.json"
    code = main(
        [
            "eval",
            "--gold",
            str(DEV_GOLD),
            "--quiet",
            "--quiet-questions",
            "--json",
            str(report),
            "--markdown",
            str(eval_env / "dev.md"),
            "--plot",
            str(eval_env / "dev.png"),
            "--fail-under",
            "retrieval.recall@5=0.85",
            "--fail-under",
            "retrieval.mrr@10=0.80",
            "--fail-under",
            "answer.composed_contains_gold=0.89",
            "--fail-under",
            "answer.first_contains_gold=0.89",
            "--fail-under",
            "citations.precision=0.85",
            "--fail-under",
            "citations.verifiability=1.0",
            "--fail-under",
            "abstention.unanswerable_abstained=0.88",
            "--fail-over",
            "abstention.answerable_wrongly_abstained=0.05",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert report.stat().st_size > 0 and (eval_env / "dev.png").read_bytes()[:4] == b"\x89PNG"
    assert "| retrieval.recall@1 |" in (eval_env / "dev.md").read_text()


def test_faq_set_meets_its_floors(eval_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "eval",
            "--gold",
            str(FAQ_GOLD),
            "--quiet",
            "--quiet-questions",
            "--fail-under",
            "citations.verifiability=1.0",
            "--fail-under",
            "answer.sas=0.35",
            "--fail-over",
            "abstention.answerable_wrongly_abstained=0.50",
        ]
    )
    assert code == 0, capsys.readouterr().err


def test_a_floor_above_the_measured_value_fails_the_gate(eval_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "--gold", str(FAQ_GOLD), "--quiet", "--quiet-questions", "--fail-under", "answer.sas=0.99"])
    assert code == 1
    assert "answer.sas" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--gold", "missing.jsonl"], "no such file"),
        (["--gold", str(FAQ_GOLD), "--fail-under", "nope=1"], "unknown metric 'nope'"),
        (["--gold", str(FAQ_GOLD), "--threshold", "2"], "--threshold must be between 0 and 1"),
    ],
)
def test_eval_bad_input_exits_2(
    eval_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["eval", "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err
