"""A tiny made-up RealtimeQA checkout shared by the benchmark tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _qa(qid: str, question: str, choices: list[str], gold: int) -> dict[str, Any]:
    return {
        "question_id": qid,
        "question_sentence": question,
        "choices": choices,
        "answer": [str(gold)],
        "question_source": "Made-up Quiz",
        "evidence": "",
    }


def _result(url: str, text: str, title: str = "A headline") -> dict[str, str]:
    return {"url": url, "title": title, "text": text}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    week_a = tmp_path / "past" / "2023"
    _write(
        week_a / "20230106_qa.jsonl",
        [
            _qa("20230106_0", "Which town opened the Zorbel bridge?", ["Quillby", "Marsh"], 0),
            _qa("20230106_1", "How many lanterns were lit?", ["4,000", "12"], 1),
            _qa("20230106_2", "Who won the Pemberly cup?", ["Ana Voss", "Tom Reed"], 0),
        ],
    )
    _write(
        week_a / "20230106_gcs.jsonl",
        [
            {
                "question_id": "20230106_0",
                "search_result": [
                    _result("https://a.example/1", "The Zorbel bridge was opened by Quillby on Monday."),
                    _result("https://a.example/1", "The same url again is dropped."),
                    _result("https://a.example/2", ""),
                ],
            },
            {
                "question_id": "20230106_1",
                "search_result": [
                    _result("https://a.example/3", "Some 12 lanterns were lit in the square."),
                    _result("https://a.example/4", "The Zorbel bridge was opened by Quillby on Monday."),
                ],
            },
            {
                "question_id": "20230106_2",
                # "Ana Vossberg" must not count as "Ana Voss" (word boundary); "ana voss" not either (case).
                "search_result": [_result("https://a.example/5", "Ana Vossberg and ana voss did not play.")],
            },
        ],
    )
    week_b = tmp_path / "past" / "2024"
    _write(
        week_b / "20240105_qa.jsonl",
        [
            _qa("20240105_0", "Which river flooded the Ollen valley?", ["Ster", "Quillby"], 1),
            _qa("20240105_1", "Which bird was named mascot?", ["Heron", "Kite"], 0),
            _qa("20240105_2", "How many lanterns were lit?", ["Mole", "Badger"], 0),
        ],
    )
    _write(week_b / "20240105_gcs.jsonl", [{"question_id": "20240105_0", "search_result": [_result("u", "Ster")]}])
    held_out = tmp_path / "past" / "2022"
    _write(held_out / "20221230_qa.jsonl", [_qa("x", "Held out?", ["yes"], 0)])
    _write(held_out / "20221230_gcs.jsonl", [])
    return tmp_path
