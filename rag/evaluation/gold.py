"""Gold question/answer sets: JSONL files, or the pairs of an FAQ document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.faq import looks_like_faq, parse_faq
from rag.text import is_blank

__all__ = ["GoldError", "GoldItem", "faq_gold_items", "load_gold"]


class GoldError(ValueError):
    """A gold file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class GoldItem:
    """One gold question. ``answers`` are short strings a correct answer must contain."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    answerable: bool = True
    reference_answer: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False)


def _str_list(value: object, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GoldError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _item(record: object, where: str) -> GoldItem:
    if not isinstance(record, dict):
        raise GoldError(f"{where}: expected a JSON object")
    for key in ("id", "question"):
        if not isinstance(record.get(key), str) or is_blank(record[key]):
            raise GoldError(f"{where}: '{key}' must be a non-empty string")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise GoldError(f"{where}: 'answerable' must be true or false")
    answers = _str_list(record.get("answers", []), where, "answers")
    doc_ids = _str_list(record.get("doc_ids", []), where, "doc_ids")
    reference = record.get("reference_answer")
    if reference is not None and not isinstance(reference, str):
        raise GoldError(f"{where}: 'reference_answer' must be a string")
    if answerable and not (answers or reference):
        raise GoldError(f"{where}: an answerable question needs 'answers' or 'reference_answer'")
    known = {"id", "question", "answers", "doc_ids", "answerable", "reference_answer"}
    return GoldItem(
        id=record["id"],
        question=record["question"],
        answers=answers,
        doc_ids=doc_ids,
        answerable=answerable,
        reference_answer=reference,
        extra={k: v for k, v in record.items() if k not in known},
    )


def faq_gold_items(doc_id: str, text: str) -> list[GoldItem]:
    """The pairs of an FAQ document as gold items (reference answers, no answer strings)."""
    faq = parse_faq(doc_id, text)
    return [
        GoldItem(id=f"faq-{n}", question=pair.question, reference_answer=pair.answer)
        for n, pair in enumerate(faq.pairs, start=1)
    ]


def load_gold(path: Path) -> list[GoldItem]:
    """Read a gold JSONL file, or an FAQ document (a summary, then question/answer lines)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a leading byte-order mark is dropped
    except FileNotFoundError:
        raise GoldError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot be read ({exc})") from None
    if path.suffix.lower() != ".jsonl":
        if looks_like_faq(text):
            return faq_gold_items(path.stem, text)
        raise GoldError(f"{path}: neither a .jsonl gold file nor an FAQ document")
    items: list[GoldItem] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{where}: not valid JSON ({exc.msg})") from None
        item = _item(record, where)
        if item.id in seen:
            raise GoldError(f"{where}: duplicate id '{item.id}'")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise GoldError(f"{path}: no gold questions")
    return items
