"""Answers ``POST /ask`` already composed, kept for repeated questions (least recently used first out)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from api.schemas import AskResponse
from rag.pipeline import QAPipeline

__all__ = ["AnswerCache"]


class AnswerCache:
    """Up to ``max_entries`` responses of one pipeline, by request.

    The entries belong to the pipeline that composed them. A write publishes a new pipeline, and the
    first response stored for it empties the cache, so an answer from before a write is never served
    after it. A request that finishes on a pipeline already replaced stores nothing.
    """

    def __init__(self, max_entries: int) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must not be negative")
        self.max_entries = max_entries
        self._pipeline: QAPipeline | None = None
        self._entries: OrderedDict[Hashable, AskResponse] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, pipeline: QAPipeline, key: Hashable) -> AskResponse | None:
        """The response stored for ``key`` by ``pipeline``, or None."""
        with self._lock:
            if pipeline is not self._pipeline:
                return None
            response = self._entries.get(key)
            if response is not None:
                self._entries.move_to_end(key)
            return response

    def put(self, pipeline: QAPipeline, key: Hashable, response: AskResponse, *, current: QAPipeline | None) -> None:
        """Keep ``response`` if ``pipeline`` is the one being served (``current``)."""
        if not self.enabled or pipeline is not current:
            return
        with self._lock:
            if pipeline is not self._pipeline:
                self._pipeline = pipeline
                self._entries.clear()
            self._entries[key] = response
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
