"""The first-write benchmark's command line."""

from __future__ import annotations

import pytest

from benchmarks.first_write import main


def test_the_command_line_names_a_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--trials", "0"])
    assert exited.value.code == 2
    assert "--trials must be at least 1" in capsys.readouterr().err
