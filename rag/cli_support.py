"""Helpers shared by the command-line modules (``rag.commands``, ``rag.evaluation.cli`` and the
entry point ``api.cli``): the user-facing error, the progress bar and settings from arguments.

This module imports nothing of the other command modules, so they never import each other.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.config import Settings

__all__ = ["CliError", "port_number", "positive", "progress_bar", "settings_from_args", "show_progress"]


class CliError(Exception):
    """A user-facing error: printed as ``rag: error: ...`` with exit code 2."""


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings, with ``--index-dir`` applied when the command has it."""
    from rag.config import load_settings

    overrides = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = args.index_dir
    return load_settings(**overrides)


def show_progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def path_argument(text: str) -> Path:
    """An argparse type: a path, which must not be empty (``Path("")`` would silently mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    value = positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535, got {value}")
    return value
