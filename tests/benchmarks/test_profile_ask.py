"""The /ask profile's reading of py-spy's collapsed stacks: inclusive shares, waiting samples and groups."""

from __future__ import annotations

import pytest

from benchmarks import profile_ask
from benchmarks.profile_ask import (
    BM25,
    COMPOSITION,
    ENCODING,
    HTTP,
    OTHER,
    RERANKER,
    Frame,
    parse_frame,
    summarise,
)

PROCESS = 'process 41:"/venv/bin/python -m api.cli serve --port 8123"'
LOOP = "<module> (api/cli.py:87);run (uvicorn/main.py:632);BaseEventLoop.run_forever (asyncio/base_events.py:607)"
WORKER = (
    "Thread._bootstrap (threading.py:1002);WorkerThread.run (anyio/_backends/_asyncio.py:1124);"
    "ask (api/routes/ask.py:30);QAPipeline.ask (rag/pipeline.py:275)"
)
LINES = [
    # the reranker's ONNX Runtime call: the reranker's, not encoding's
    f"{PROCESS};{WORKER};CrossEncoderReranker.logits (rag/reranker.py:301);Session.run "
    "(onnxruntime/capi/onnxruntime_inference_collection.py:220) 3",
    # the encoder's ONNX Runtime call
    f"{PROCESS};{WORKER};OnnxEmbedder.embed (rag/onnx_embedding.py:90);Session.run "
    "(onnxruntime/capi/onnxruntime_inference_collection.py:220) 2",
    # answer composition tokenising with bm25s: composition comes first in the table
    f"{PROCESS};{WORKER};AnswerComposer.compose (rag/answer.py:500);content_terms (rag/lexical.py:18);"
    "tokenize (bm25s/tokenization.py:648) 1",
    # retrieval's own BM25, recursion in one function: counted once per sample
    f"{PROCESS};{WORKER};HybridRetriever.search (rag/retrieval.py:272);walk (rag/retrieval.py:10);"
    "walk (rag/retrieval.py:12);get_scores (bm25s/__init__.py:500) 2",
    # the event loop's own work (routing), then the event loop waiting
    f"{PROCESS};{LOOP};APIRoute.handle (fastapi/routing.py:1373) 2",
    f"{PROCESS};{LOOP};EpollSelector.select (selectors.py:468) 5",
    # a worker thread waiting for the micro-batcher
    f"{PROCESS};{WORKER};MicroBatchingEmbedder.embed (rag/batching.py:80);Condition.wait (threading.py:327) 4",
    # busy stacks in nothing the table names; 0.2.0's entry point rag/cli.py is not "other pipeline code"
    f"{PROCESS};Thread._bootstrap (threading.py:1002);Thread.run (threading.py:982) 1",
    f"{PROCESS};<module> (rag/cli.py:222);run (uvicorn/main.py:632);BaseEventLoop._run_once "
    "(asyncio/base_events.py:1922) 1",
    "",
    "not a stack line",
]


def test_frames_with_and_without_line_numbers_and_pseudo_frames() -> None:
    assert parse_frame("ask (api/routes/ask.py:30)") == Frame("ask", "api/routes/ask.py", 30)
    assert parse_frame("_run_code (<frozen runpy>:88)") == Frame("_run_code", "<frozen runpy>", 88)
    assert parse_frame("f.<locals>.g (rag/x.py)") == Frame("f.<locals>.g", "rag/x.py")
    assert parse_frame(PROCESS) is None
    assert parse_frame("thread (0x7F3A2B)") is None


def test_waiting_samples_are_apart_and_shares_are_of_the_busy_ones() -> None:
    summary = summarise(LINES)
    assert summary.samples == 21
    assert summary.waiting == 9  # the select and the Condition.wait
    assert summary.busy == 12
    assert summary.inclusive["rag/pipeline.py:QAPipeline.ask"] == 8
    assert summary.inclusive["rag/retrieval.py:walk"] == 2  # not 4: one sample, one count per function
    assert summary.inclusive["onnxruntime/capi/onnxruntime_inference_collection.py:Session.run"] == 5
    assert summary.own["onnxruntime/capi/onnxruntime_inference_collection.py:Session.run"] == 5
    assert summary.share(summary.inclusive["rag/pipeline.py:QAPipeline.ask"]) == pytest.approx(8 / 12)
    assert "threading.py:Condition.wait" not in summary.inclusive


def test_groups_follow_the_table_order() -> None:
    summary = summarise(LINES)
    assert dict(summary.groups) == {RERANKER: 3, ENCODING: 2, COMPOSITION: 1, BM25: 2, HTTP: 2, OTHER: 2}
    shares = summary.group_shares()
    assert shares[RERANKER] == pytest.approx(3 / 12)
    assert shares[HTTP] == pytest.approx(2 / 12)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_top_functions_leave_out_the_thread_and_event_loop_plumbing() -> None:
    top = summarise(LINES).top(3)
    assert [key for key, _, _ in top] == [
        "api/routes/ask.py:ask",
        "rag/pipeline.py:QAPipeline.ask",
        "onnxruntime/capi/onnxruntime_inference_collection.py:Session.run",
    ]
    _, inclusive, own = top[2]
    assert (inclusive, own) == (pytest.approx(5 / 12), pytest.approx(5 / 12))
    plumbing = ("threading.py", "asyncio/", "api/cli.py", "rag/cli.py", "uvicorn/main.py")
    assert all(not key.startswith(plumbing) for key, _, _ in summarise(LINES).top())


def test_without_py_spy_the_script_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(profile_ask, "find_py_spy", lambda: None)
    assert profile_ask.main(["--seconds", "1"]) == 2
    assert "pip install py-spy" in capsys.readouterr().err
