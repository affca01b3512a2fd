"""Per-request structured log line and Prometheus metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger("api.request")


class Metrics:
    """The service's metrics, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rag_requests_total", "HTTP requests", ["method", "endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "rag_request_duration_seconds",
            "HTTP request latency",
            ["method", "endpoint"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.answers = Counter("rag_answers_total", "Answers composed by /ask", ["abstained"], registry=self.registry)
        self.answer_cache = Counter(
            "rag_answer_cache_total", "/ask answers looked up in the answer cache", ["result"], registry=self.registry
        )
        self.ask_stage = Histogram(
            "rag_ask_stage_seconds",
            "Time /ask spends in each stage of the pipeline (encode, passages, sentences, rerank, compose)",
            ["stage"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.index_documents = Gauge("rag_index_documents", "Documents in the index", registry=self.registry)
        self.index_passages = Gauge("rag_index_passages", "Passages in the index", registry=self.registry)
        self.index_sentences = Gauge("rag_index_sentences", "Sentences in the index", registry=self.registry)
        self.index_build_seconds = Gauge(
            "rag_index_build_seconds", "Time the loaded index took to build", registry=self.registry
        )
        self.index_open_seconds = Gauge(
            "rag_index_open_seconds", "Time to load or build the index at start-up", registry=self.registry
        )
        self.model_load_seconds = Gauge(
            "rag_model_load_seconds", "Time to load the embedding model", registry=self.registry
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, metrics: Metrics) -> None:
    """Time every request, count it, and log one structured line for it."""

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            endpoint = getattr(route, "path", "unmatched")
            metrics.requests.labels(request.method, endpoint, str(status)).inc()
            metrics.latency.labels(request.method, endpoint).observe(elapsed)
            extra: dict[str, object] = {
                "method": request.method,
                "path": request.url.path,
                "status": status,
                "latency_ms": round(elapsed * 1000, 2),
            }
            extra.update(getattr(request.state, "log_fields", {}))
            log.info("%s %s %s %.1fms", request.method, request.url.path, status, elapsed * 1000, extra=extra)
