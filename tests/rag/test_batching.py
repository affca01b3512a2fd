"""Micro-batching of concurrent single-question encodes (rag/batching.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from rag.batching import MicroBatchingEmbedder
from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.pipeline import make_embedder


class SlowEmbedder(HashingEmbedder):
    """A hashing embedder whose every call takes a while, recording call sizes and how many ran at once."""

    def __init__(self, seconds: float = 0.05, fail: bool = False) -> None:
        super().__init__(64)
        self.seconds = seconds
        self.fail = fail
        self.sizes: list[int] = []
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()
        self.load_seconds = 1.25

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.sizes.append(len(texts))
        try:
            time.sleep(self.seconds)
            if self.fail:
                raise RuntimeError("model exploded")
            return super().embed(texts)
        finally:
            with self._lock:
                self.running -= 1


def _concurrently(embedder: MicroBatchingEmbedder, texts: list[str]) -> list[np.ndarray | BaseException]:
    results: list[np.ndarray | BaseException] = [np.zeros(0)] * len(texts)
    start = threading.Barrier(len(texts))

    def call(i: int) -> None:
        start.wait()
        try:
            results[i] = embedder.embed([texts[i]])
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a caller never got its vector"
    return results


TEXTS = [f"question number {i} about topic {i % 5} and item {i * 7}" for i in range(24)]


def test_concurrent_callers_share_batches_and_each_gets_its_own_vector() -> None:
    inner = SlowEmbedder()
    batcher = MicroBatchingEmbedder(inner, window_ms=20, max_batch=32)
    results = _concurrently(batcher, TEXTS)
    expected = HashingEmbedder(64).embed(TEXTS)
    for row, result in enumerate(results):
        assert isinstance(result, np.ndarray) and result.shape == (1, 64)
        np.testing.assert_allclose(result[0], expected[row], atol=1e-6)
    assert sum(inner.sizes) == len(TEXTS)
    assert len(inner.sizes) < len(TEXTS) // 2, inner.sizes
    assert max(inner.sizes) > 1
    assert inner.most_running == 1, "the model ran more than one call at a time"
    assert batcher.stats.questions == len(TEXTS) and batcher.stats.batches == len(inner.sizes)


def test_batches_never_exceed_max_batch() -> None:
    inner = SlowEmbedder()
    results = _concurrently(MicroBatchingEmbedder(inner, window_ms=20, max_batch=4), TEXTS)
    assert all(isinstance(r, np.ndarray) for r in results)
    assert max(inner.sizes) <= 4 and sum(inner.sizes) == len(TEXTS)


def test_a_lone_question_does_not_wait_for_the_window() -> None:
    inner = SlowEmbedder(seconds=0.0)
    batcher = MicroBatchingEmbedder(inner, window_ms=1000 * 60, max_batch=32)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (batcher.embed(["alone"]), done.set()))
    thread.start()
    thread.join(timeout=20)
    assert done.is_set(), "a single question waited for the (one-minute) batching window"
    assert inner.sizes == [1]


def test_a_model_error_reaches_every_caller_of_the_batch() -> None:
    results = _concurrently(MicroBatchingEmbedder(SlowEmbedder(fail=True), window_ms=20), TEXTS[:8])
    assert all(isinstance(r, RuntimeError) and "exploded" in str(r) for r in results)


def test_bulk_calls_go_straight_to_the_model_and_the_protocol_is_delegated() -> None:
    inner = SlowEmbedder(seconds=0.0)
    batcher = MicroBatchingEmbedder(inner)
    np.testing.assert_allclose(batcher.embed(TEXTS), HashingEmbedder(64).embed(TEXTS), atol=1e-6)
    assert inner.sizes == [len(TEXTS)]
    assert batcher.embed([]).shape == (0, 64)
    assert (batcher.model_name, batcher.weights_hash, batcher.dimension) == ("hashing-64", "none", 64)
    assert batcher.load_seconds == 1.25  # what /metrics reads from the pipeline's embedder


@pytest.mark.parametrize(("window", "size"), [(-1.0, 4), (1.0, 0)])
def test_bad_parameters_are_refused(window: float, size: int) -> None:
    with pytest.raises(ValueError):
        MicroBatchingEmbedder(HashingEmbedder(), window_ms=window, max_batch=size)


def test_the_settings_wrap_the_model_unless_max_batch_is_1() -> None:
    wrapped = make_embedder(Settings(batch_window_ms=3, max_batch=8, _env_file=None))  # type: ignore[call-arg]
    assert isinstance(wrapped, MicroBatchingEmbedder)
    assert (wrapped.window_seconds, wrapped.max_batch) == (0.003, 8)
    assert not isinstance(make_embedder(Settings(max_batch=1, _env_file=None)), MicroBatchingEmbedder)  # type: ignore[call-arg]
    assert not isinstance(make_embedder(Settings(model="hashing", _env_file=None)), MicroBatchingEmbedder)  # type: ignore[call-arg]
