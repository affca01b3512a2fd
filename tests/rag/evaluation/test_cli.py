"""``rag eval`` refuses, before any work, report paths that cannot be written or would overwrite an input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from api.cli import main
from tests.conftest import DEV_GOLD, SEEDS


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "gold.jsonl").write_text(DEV_GOLD.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_SEEDS_DIR", str(tmp_path / "seeds"))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "idx"))
    return tmp_path


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        (["--json", "out"], "--json out: is a directory; name a file"),
        (["--json", "gold.jsonl"], "--json gold.jsonl: would overwrite an input"),
        (["--markdown", "seeds/000_547d51fb02376e96.txt"], "would overwrite an input"),
        (["--plot", "idx/chart.png"], "would overwrite an input"),
        (["--json", "r.json", "--markdown", "./r.json"], "--markdown and --json name the same file"),
        (["--json", "notes.txt/r.json"], "--json notes.txt/r.json: cannot be written"),
        # A .txt chart was a matplotlib ValueError traceback after every question had been answered.
        (["--plot", "chart.txt"], "--plot chart.txt: the chart is written as PNG, SVG or PDF"),
        # An unknown metric was named only after the whole run.
        (["--fail-under", "answer.first=0.9"], "unknown metric 'answer.first'; known: retrieval.recall@1"),
        (["--fail-over", "latency.p99_ms=100"], "unknown metric 'latency.p99_ms'"),
    ],
)
def test_a_bad_report_path_exits_2_before_the_run_and_touches_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], reports: list[str], message: str
) -> None:
    (env / "out").mkdir()
    (env / "notes.txt").write_text("keep me", encoding="utf-8")
    before = {p: p.read_bytes() for p in env.rglob("*") if p.is_file()}
    assert main(["eval", "--gold", "gold.jsonl", "--quiet", *reports]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error:") and message in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in env.rglob("*") if p.is_file()} == before
    assert not (env / "idx").exists()  # refused before the index was built


@pytest.mark.parametrize("bound", ["answer.sas=nan", "answer.sas=inf", "answer.sas=-inf"])
def test_a_bound_that_is_not_a_finite_number_is_a_usage_error(
    env: Path, capsys: pytest.CaptureFixture[str], bound: str
) -> None:
    # Nothing is below nan, so --fail-under answer.sas=nan was a gate that always passed.
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--gold", "gold.jsonl", "--quiet", "--fail-under", bound])
    assert exit_info.value.code == 2
    assert "is not a finite number" in capsys.readouterr().err


def test_every_report_has_exactly_the_metrics_the_bounds_are_checked_against(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.evaluation.evaluate import METRIC_NAMES

    lines = (env / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    (env / "gold.jsonl").write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    code = main(["eval", "--gold", "gold.jsonl", "--quiet", "--quiet-questions", "--json", "r.json"])
    assert code == 0, capsys.readouterr().err
    assert list(json.loads((env / "r.json").read_text(encoding="utf-8"))["metrics"]) == list(METRIC_NAMES)


def test_reports_are_written_to_new_folders(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = (env / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    (env / "gold.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    code = main(["eval", "--gold", "gold.jsonl", "--quiet", "--quiet-questions", "--json", "reports/new/r.json"])
    assert code == 0, capsys.readouterr().err
    report = json.loads((env / "reports" / "new" / "r.json").read_text(encoding="utf-8"))
    assert [q["id"] for q in report["questions"]] == [json.loads(line)["id"] for line in lines[:3]]
