"""Checks on raw text: what counts as blank, and where a NUL is."""

from __future__ import annotations

import pytest

from rag.text import is_blank, nul_position


@pytest.mark.parametrize("text", ["", " \n\t", "\u200b\u200c\u200d\ufeff", "\x00\x01\x7f", "\u2028\u2029\u00a0\u3000"])
def test_nothing_visible_is_blank(text: str) -> None:
    assert is_blank(text)


@pytest.mark.parametrize("text", ["a", "\u200b7", "?", "俘", "🇺🇦", "\u0301"])
def test_any_visible_character_is_not_blank(text: str) -> None:
    assert not is_blank(text)


def test_nul_position_finds_the_first_nul_only() -> None:
    assert nul_position("no nul here") is None
    assert nul_position("ab\x00c\x00") == 2
    assert nul_position("\x00") == 0
