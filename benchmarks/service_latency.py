"""Index build time and `/ask` latency of the real service on the seeds.

    python -m benchmarks.service_latency [--requests 100] [--write-docs]

Builds the seeds index with the bundled model in a temporary directory (cold: model load and
embedding), opens it again (warm: load only), then starts the real app under uvicorn on
127.0.0.1 and times ``POST /ask`` over HTTP for the development questions, in a loop.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import uvicorn

from api.main import create_app
from benchmarks.common import machine_description, run_main, update_docs_section, utc_date
from rag.config import Settings
from rag.evaluation.metrics import percentile
from rag.pipeline import build_pipeline

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="number of /ask requests to time")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    questions = [json.loads(line)["question"] for line in (REPO / "tests/data/dev_gold.jsonl").open(encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(seeds_dir=REPO / "seeds", index_dir=Path(tmp) / "index", _env_file=None)  # type: ignore[call-arg]
        started = time.perf_counter()
        pipeline = build_pipeline(settings)
        pipeline.warm_up()
        cold = time.perf_counter() - started
        model_load = getattr(pipeline.embedder, "load_seconds", None) or 0.0
        build = float(pipeline.store.manifest["build_seconds"])
        started = time.perf_counter()
        reopened = build_pipeline(settings, embedder=pipeline.embedder)
        warm_open = time.perf_counter() - started
        assert reopened.index_status is not None and reopened.index_status.action == "loaded"

        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, pipeline=reopened), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        latencies = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            client.post("/ask", json={"question": questions[0]}).raise_for_status()
            for i in range(args.requests):
                sent = time.perf_counter()
                client.post("/ask", json={"question": questions[i % len(questions)]}).raise_for_status()
                latencies.append((time.perf_counter() - sent) * 1000)
        server.should_exit = True
        thread.join(timeout=10)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("cold start: model load + index build of 4 articles", f"{cold:.2f} s"),
        ("  model load (inside the build)", f"{model_load:.2f} s"),
        ("  index build as recorded in the manifest (includes the model load)", f"{build:.2f} s"),
        ("warm start: open the saved index", f"{warm_open * 1000:.0f} ms"),
        (f"POST /ask over HTTP, p50 ({args.requests} requests)", f"{percentile(latencies, 50):.1f} ms"),
        ("POST /ask over HTTP, p95", f"{percentile(latencies, 95):.1f} ms"),
        ("POST /ask, max", f"{max(latencies):.1f} ms"),
        ("peak resident memory of the process", f"{rss_mb:.0f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.write_docs:
        table = "\n".join(["| measure | value |", "| --- | ---: |", *(f"| {n.strip()} | {v} |" for n, v in rows)])
        body = (
            f"Command: `python -m benchmarks.service_latency --requests {args.requests} --write-docs`  \n"
            f"Date: {utc_date()}  \nMachine: {machine_description()}\n\n{table}\n\n"
            "Each request is one of the 81 development questions, in turn, over loopback HTTP to uvicorn "
            "in the same process as the client (one client, sequential requests)."
        )
        update_docs_section("Service: index build and /ask latency", body)
    return 0


if __name__ == "__main__":
    run_main(main)
