"""Hostile but well-formed input: every string that is valid JSON gets a 200 or a 4xx with a message."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.pipeline import QAPipeline

HOSTILE = {
    "lone high surrogate": "who \ud800 is",
    "lone low surrogate": "\udfff",
    "NUL": "who\x00 is the president",
    "control characters": "\x01\x02\x1b[31mred\x7f",
    "right-to-left": "من هو رئيس أوكرانيا؟",
    "RTL override": "\u202eevil\u202c question",
    "emoji": "🇺🇦 prisoner exchange 👨‍👩‍👧 🔥",
    "500 of one letter": "a" * 500,
    "zero-width": "\u200b\u200c\u200d\ufeff",
    "combining marks": "Z̷̡̛a̴l̸g̶o̵" * 10,
    "CJK": "俘虏交换什么时候",
    "line separators": "who\u2028is\u2029it\r\n",
    "private use": "\ue000\U000f0000",
    "only punctuation": "?!.…—",
}


def _post_json(client: TestClient, path: str, payload: object) -> object:
    # json.dumps keeps lone surrogates as \ud800 escapes, exactly what a hostile client sends.
    return client.post(path, content=json.dumps(payload), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_ask_answers_hostile_strings_with_200_or_a_4xx_message(client: TestClient, text: str) -> None:
    response = _post_json(client, "/ask", {"question": text})
    assert response.status_code == 200 or (400 <= response.status_code < 500 and response.json()["detail"])
    if any("\ud800" <= c <= "\udfff" for c in text):
        assert response.status_code == 422
        assert "lone surrogate" in response.json()["detail"]


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_search_answers_hostile_strings_with_200_or_a_4xx_message(client: TestClient, text: str) -> None:
    response = client.get("/search", params={"q": text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")})
    assert response.status_code == 200 or (400 <= response.status_code < 500 and response.json()["detail"])


@pytest.mark.parametrize("text", ["\u200b\u200c\u200d\ufeff", "\x01\x7f", "\u2028 \u00a0"])
def test_a_question_with_nothing_visible_is_422_on_ask_and_search(client: TestClient, text: str) -> None:
    # Zero-width marks and controls are not whitespace to str.strip(); such a question once got an answer.
    ask = _post_json(client, "/ask", {"question": text})
    assert ask.status_code == 422 and "must not be empty" in ask.json()["detail"]
    search = client.get("/search", params={"q": text})
    assert search.status_code == 422 and "must not be empty" in search.json()["detail"]


def test_search_with_percent_encoded_surrogate_and_invalid_utf8(client: TestClient) -> None:
    for raw in ("%ED%A0%80", "%FF%FE", "%00"):
        response = client.get(f"/search?q=who{raw}is")
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"question": "q", "top_k": True}, "top_k: Input should be a valid integer"),
        ({"question": "q", "top_k": 3.0}, "top_k: Input should be a valid integer"),
        ({"question": "q", "top_k": "3"}, "top_k: Input should be a valid integer"),
        ({"question": "q", "max_sentences": False}, "max_sentences: Input should be a valid integer"),
        ({"question": True}, "question: Input should be a valid string"),
        ({"question": ["q"]}, "question: Input should be a valid string"),
        ({"question": None}, "question: Input should be a valid string"),
    ],
)
def test_no_surprising_coercion(client: TestClient, payload: object, fragment: str) -> None:
    response = client.post("/ask", json=payload)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe{}", b'{"question": "\xc3\x28"}', b"[" * 100_000 + b"]" * 100_000, b"", b"null", b'"q"'],
    ids=["invalid utf-8", "invalid utf-8 in a string", "deep nesting", "empty", "null", "bare string"],
)
def test_ask_malformed_bodies_are_4xx(client: TestClient, body: bytes) -> None:
    response = client.post("/ask", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]


# ---- body size limit ----------------------------------------------------------------------------
@pytest.fixture()
def small_body_app(fake_settings: Settings, fake_pipeline: QAPipeline) -> object:
    return create_app(fake_settings.model_copy(update={"max_body_bytes": 2048}), pipeline=fake_pipeline)


def test_declared_oversized_body_is_refused_with_413_before_any_byte_is_read(
    small_body_app: object, fake_pipeline: QAPipeline
) -> None:
    """Drive the ASGI app directly: ``receive`` must never be called for a Content-Length over the limit."""
    reads = 0
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/ask",
        "raw_path": b"/ask",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 1234),
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"50000000")],
        "state": {},
    }
    small_body_app.state.pipeline = fake_pipeline  # type: ignore[attr-defined]
    asyncio.run(small_body_app(scope, receive, send))  # type: ignore[operator]
    assert reads == 0
    assert sent[0]["status"] == 413
    assert b"RAG_MAX_BODY_BYTES" in sent[1]["body"]  # type: ignore[operator]


def test_streamed_body_without_length_is_cut_off_at_the_limit(small_body_app: object) -> None:
    chunks_read = 0

    def body() -> object:
        nonlocal chunks_read
        for _ in range(1000):  # 1 MB offered; the limit is 2 KB
            chunks_read += 1
            yield b" " * 1024

    with TestClient(small_body_app) as client:  # type: ignore[arg-type]
        response = client.post("/ask", content=body(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "limit of 2048 bytes" in response.json()["detail"]


def test_body_under_the_limit_passes_and_a_bad_length_is_400(small_body_app: object) -> None:
    with TestClient(small_body_app) as client:  # type: ignore[arg-type]
        assert client.post("/ask", json={"question": "prisoner exchange"}).status_code == 200
        response = client.post("/ask", content=b"{}", headers={"Content-Length": "lots"})
        assert response.status_code == 400
        assert "Content-Length" in response.json()["detail"]


def test_oversized_write_is_413_too(small_body_app: object) -> None:
    with TestClient(small_body_app) as client:  # type: ignore[arg-type]
        response = client.post("/documents", json={"id": "big", "text": "x" * 10_000})
        assert response.status_code == 413


# ---- request timeout -----------------------------------------------------------------------------
class SlowEmbedder(HashingEmbedder):
    """Takes ``delay`` seconds per call: a stand-in for an overloaded model."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def embed(self, texts: list[str]) -> np.ndarray:
        time.sleep(self.delay)
        return super().embed(texts)


def test_slow_request_is_answered_504_with_a_message(fake_settings: Settings, fake_pipeline: QAPipeline) -> None:
    slow = QAPipeline(fake_pipeline.store, SlowEmbedder(1.0))
    app = create_app(fake_settings.model_copy(update={"request_timeout_seconds": 0.2}), pipeline=slow)
    with TestClient(app) as client:
        started = time.perf_counter()
        response = client.post("/ask", json={"question": "prisoner exchange"})
        assert response.status_code == 504
        assert time.perf_counter() - started < 0.9
        assert "RAG_REQUEST_TIMEOUT_SECONDS" in response.json()["detail"]
        assert client.get("/health").status_code == 200  # fast requests are untouched
