"""The /ask answer cache: repeated questions are served without recomposing, never across a write."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.answer_cache import AnswerCache
from api.main import create_app
from api.schemas import AskResponse
from rag.config import Settings
from rag.logs import configure_logging
from rag.pipeline import QAPipeline
from tests.api.test_writes import AUTH, ZORBLAX, make_settings, start

QUESTION = {"question": "How many Ukrainians does Kyiv hope to free?"}


def response(text: str = "x") -> AskResponse:
    return AskResponse(
        question=text,
        answer=text,
        abstained=True,
        confidence=0.0,
        support="none",
        answer_type="description",
        sentences=[],
        citations=[],
    )


def cache_metric(client: TestClient, result: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'rag_answer_cache_total{{result="{result}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_a_repeated_question_is_answered_from_the_cache(
    fake_settings: Settings, fake_pipeline: QAPipeline, ask_calls: list[str]
) -> None:
    asked = ask_calls
    with TestClient(create_app(fake_settings, pipeline=fake_pipeline)) as client:
        first = client.post("/ask", json=QUESTION)
        second = client.post("/ask", json=QUESTION)
        assert first.status_code == second.status_code == 200
        assert second.json() == first.json()
        assert asked == [QUESTION["question"]]
        assert first.headers["Server-Timing"].startswith("encode;")
        assert second.headers["Server-Timing"].startswith("cache;dur=")
        assert (cache_metric(client, "miss"), cache_metric(client, "hit")) == (1, 1)


def test_the_request_log_says_whether_the_answer_came_from_the_cache(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    try:
        for _ in range(2):
            client.post("/ask", json=QUESTION)
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    asks = [line for line in lines if line.get("logger") == "api.request" and line.get("path") == "/ask"]
    assert [line["cached"] for line in asks] == [False, True]
    assert asks[0]["citations"] == asks[1]["citations"] and asks[0]["abstained"] == asks[1]["abstained"]


def test_other_options_or_another_question_are_composed_anew(
    fake_settings: Settings, fake_pipeline: QAPipeline, ask_calls: list[str]
) -> None:
    asked = ask_calls
    with TestClient(create_app(fake_settings, pipeline=fake_pipeline)) as client:
        one = client.post("/ask", json={**QUESTION, "max_sentences": 1}).json()
        three = client.post("/ask", json={**QUESTION, "max_sentences": 3}).json()
        client.post("/ask", json={**QUESTION, "top_k": 2})
        client.post("/ask", json={"question": QUESTION["question"] + " "})
        assert len(asked) == 4
        assert len(one["sentences"]) <= 1 and client.post("/ask", json={**QUESTION, "max_sentences": 3}).json() == three
        assert len(asked) == 4


def test_size_zero_turns_the_cache_off(
    fake_settings: Settings, fake_pipeline: QAPipeline, ask_calls: list[str]
) -> None:
    asked = ask_calls
    settings = fake_settings.model_copy(update={"answer_cache_size": 0})
    with TestClient(create_app(settings, pipeline=fake_pipeline)) as client:
        for _ in range(3):
            assert "cache" not in client.post("/ask", json=QUESTION).headers["Server-Timing"]
        assert len(asked) == 3
        assert "rag_answer_cache_total{" not in client.get("/metrics").text


def test_a_write_is_seen_by_the_next_repeated_question(tmp_path: Path) -> None:
    question = {"question": "How many people will the merged Zorblax company employ?"}
    with start(make_settings(tmp_path)) as client:
        before = [client.post("/ask", json=question).json() for _ in range(2)]
        assert before[0] == before[1] and "12,000" not in before[0]["answer"]
        assert client.post("/documents", json=ZORBLAX, headers=AUTH).status_code == 200
        after = client.post("/ask", json=question)
        assert "12,000" in after.json()["answer"] and after.headers["Server-Timing"].startswith("encode;")
        assert client.delete("/documents/zorblax-merger", headers=AUTH).status_code == 200
        assert "12,000" not in client.post("/ask", json=question).json()["answer"]


def test_the_least_recently_used_answer_goes_first() -> None:
    pipeline = object()
    cache = AnswerCache(2)
    cache.put(pipeline, "a", response("a"), current=pipeline)  # type: ignore[arg-type]
    cache.put(pipeline, "b", response("b"), current=pipeline)  # type: ignore[arg-type]
    assert cache.get(pipeline, "a") is not None  # type: ignore[arg-type]
    cache.put(pipeline, "c", response("c"), current=pipeline)  # type: ignore[arg-type]
    assert cache.get(pipeline, "b") is None  # type: ignore[arg-type]
    assert [cache.get(pipeline, k).answer for k in ("a", "c")] == ["a", "c"]  # type: ignore[arg-type,union-attr]
    assert len(cache) == 2


def test_entries_belong_to_the_pipeline_being_served() -> None:
    old, new = object(), object()
    cache = AnswerCache(8)
    cache.put(old, "q", response("old"), current=old)  # type: ignore[arg-type]
    assert cache.get(new, "q") is None  # type: ignore[arg-type]
    cache.put(old, "late", response("late"), current=new)  # type: ignore[arg-type]  # finished after the swap
    assert cache.get(old, "late") is None  # type: ignore[arg-type]
    cache.put(new, "q", response("new"), current=new)  # type: ignore[arg-type]
    assert cache.get(old, "q") is None and cache.get(new, "q").answer == "new"  # type: ignore[arg-type,union-attr]
    assert len(cache) == 1


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        AnswerCache(-1)
    with pytest.raises(ValidationError, match="answer_cache_size"):
        Settings(answer_cache_size=-1, _env_file=None)  # type: ignore[call-arg]
