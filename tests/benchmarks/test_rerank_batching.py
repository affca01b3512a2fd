"""The reranker batching benchmark's command line."""

from __future__ import annotations

import pytest

from benchmarks.rerank_batching import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--trials", "0"], "--trials must be at least 1"), (["--runtime", "gpu"], "invalid choice: 'gpu'")],
)
def test_the_command_line_names_a_bad_argument(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
