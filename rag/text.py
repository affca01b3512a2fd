"""Checks on raw text from users and files, before it reaches the pipeline or a store."""

from __future__ import annotations

import unicodedata

__all__ = ["is_blank", "nul_position"]

# Separators, controls and format characters (zero-width space, BOM, direction marks) show nothing.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def is_blank(text: str) -> bool:
    """True when ``text`` has no visible character: only whitespace, controls or zero-width marks."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in text)


def nul_position(text: str) -> int | None:
    """Where ``text`` holds U+0000, which is not text and which PostgreSQL cannot store; None if nowhere."""
    position = text.find("\x00")
    return None if position < 0 else position
