"""Micro-batching: questions that arrive together are encoded together.

The HTTP service answers each request in a worker thread, and each asks the embedder for one
question's vector. Encoding 32 questions in one call costs far less than 32 calls, and one call at a
time keeps the model's intra-op threads (``torch.get_num_threads()``, one per core) from being
oversubscribed by many concurrent encodes. :class:`MicroBatchingEmbedder` collects the concurrent
``embed([question])`` calls, runs one ``embed(batch)`` on the wrapped embedder and hands every caller
its row.

No extra thread: the first waiting caller becomes the *leader*, waits up to ``window_ms`` for more
callers while there is evidence of concurrency (a batch in the queue, or the last batch held more than
one question), takes at most ``max_batch`` questions, encodes them and wakes the others. A lone
question is never delayed. Calls of several texts (index builds) bypass the queue but share the lock
that makes the model run one call at a time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.embedding import Embedder, WrappedEmbedder

__all__ = ["BatchStats", "MicroBatchingEmbedder"]


@dataclass
class _Request:
    text: str
    done: bool = False
    vector: np.ndarray | None = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    """What the batcher did since it was made (read without a lock: for reports, not decisions)."""

    batches: int = 0
    questions: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)


class MicroBatchingEmbedder(WrappedEmbedder):
    """An :class:`~rag.embedding.Embedder` that batches concurrent single-text calls from many threads."""

    def __init__(self, inner: Embedder, *, window_ms: float = 2.0, max_batch: int = 32) -> None:
        if window_ms < 0:
            raise ValueError("window_ms must be at least 0")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.inner = inner
        self.window_seconds = window_ms / 1000.0
        self.max_batch = max_batch
        self.stats = BatchStats()
        self._cond = threading.Condition()
        self._queue: deque[_Request] = deque()
        self._leading = False
        self._last_batch = 0
        self._model_lock = threading.Lock()

    # ---- the rest of the wrapped embedder, delegated -------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # warm_up, load_seconds, ... of the wrapped embedder (only called for names not found here).
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) != 1 or progress or self.max_batch == 1:
            with self._model_lock:
                return self.inner.embed(texts, progress=progress)
        request = _Request(texts[0])
        with self._cond:
            self._queue.append(request)
            self._cond.notify_all()
            while not request.done and self._leading:
                self._cond.wait()
            lead = not request.done
            if lead:
                self._leading = True
        if lead:
            try:
                while not request.done:
                    self._run_one_batch()
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error
        assert request.vector is not None
        return request.vector.reshape(1, -1).copy()

    def _run_one_batch(self) -> None:
        with self._cond:
            if self.window_seconds > 0 and (len(self._queue) > 1 or self._last_batch > 1):
                deadline = time.monotonic() + self.window_seconds
                while len(self._queue) < self.max_batch:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            self._last_batch = len(batch)
        if not batch:
            return
        try:
            with self._model_lock:
                vectors = self.inner.embed([r.text for r in batch])
            for request, vector in zip(batch, vectors, strict=True):
                request.vector = vector
        except BaseException as exc:  # every caller of the batch sees the model's error
            for request in batch:
                request.error = exc
        stats = self.stats
        stats.batches += 1
        stats.questions += len(batch)
        stats.largest = max(stats.largest, len(batch))
        stats.sizes[len(batch)] = stats.sizes.get(len(batch), 0) + 1
        with self._cond:
            for request in batch:
                request.done = True
            self._cond.notify_all()
