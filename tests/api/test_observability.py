from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from rag.logs import configure_logging


def test_metrics_count_requests_answers_and_index(client: TestClient) -> None:
    client.post("/ask", json={"question": "When is the meeting of Chiefs of the General Staff?"})
    client.post("/ask", json={"question": "zzyzx qwerty plugh"})
    client.get("/search", params={"q": "x", "k": 0})
    text = client.get("/metrics").text
    assert 'rag_requests_total{endpoint="/ask",method="POST",status="200"} 2.0' in text
    assert 'rag_requests_total{endpoint="/search",method="GET",status="422"} 1.0' in text
    assert 'rag_request_duration_seconds_count{endpoint="/ask",method="POST"} 2.0' in text
    assert 'rag_answers_total{abstained="true"} 1.0' in text
    assert "rag_index_documents 4.0" in text
    assert "rag_index_build_seconds" in text and "rag_model_load_seconds" in text


def test_ask_reports_its_stages_in_server_timing_and_metrics(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "When is the meeting of Chiefs of the General Staff?"})
    assert response.status_code == 200
    entries = [entry.strip().split(";dur=") for entry in response.headers["Server-Timing"].split(",")]
    assert [name for name, _ in entries] == ["encode", "passages", "sentences", "rerank", "compose"]
    assert all(float(ms) >= 0 for _, ms in entries)
    text = client.get("/metrics").text
    for stage in ("encode", "passages", "sentences", "rerank", "compose"):
        assert f'rag_ask_stage_seconds_count{{stage="{stage}"}} 1.0' in text
    assert "Server-Timing" not in client.post("/ask", json={"question": ""}).headers


def test_one_json_log_line_per_request_without_the_api_key(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    try:
        client.post(
            "/ask", json={"question": "Where did Umerov meet Hakan Fidan?"}, headers={"X-API-Key": "secret-key-value"}
        )
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("logger") == "api.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert (line["method"], line["path"], line["status"]) == ("POST", "/ask", 200)
    assert line["question_chars"] == len("Where did Umerov meet Hakan Fidan?")
    assert isinstance(line["abstained"], bool) and line["citations"] >= 0 and line["latency_ms"] > 0
    assert "secret-key-value" not in json.dumps(lines)


def test_text_logs_on_a_terminal_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    try:
        logging.getLogger("rag.test").info("hello")
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "INFO" in err and "rag.test: hello" in err and not err.startswith("{")
