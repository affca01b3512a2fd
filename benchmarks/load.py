"""Throughput and latency of the real service under concurrent load, with and without micro-batching.

    python -m benchmarks.load [--requests 200] [--concurrency 32] [--write-docs]

Builds the seeds index with the bundled model in a temporary directory, then for each service
configuration (micro-batching off: ``RAG_MAX_BATCH=1``; on: the defaults) starts ``python -m api.cli
serve`` as its own process on 127.0.0.1 and drives ``POST /ask`` with an async httpx client, first one
request at a time, then ``--concurrency`` at a time, each phase a bounded number of requests (the 81
development questions in turn). Between the runs, with no server up, it times the bare model encoding
one question, the floor of ``/ask`` latency. Figures are compared as ratios measured in this one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.common import machine_description, run_main, update_docs_section, utc_date
from rag.config import Settings
from rag.evaluation.metrics import percentile
from rag.pipeline import build_pipeline

REPO = Path(__file__).resolve().parents[1]
GOAL_SPEEDUP = 3.0
GOAL_FLOOR_RATIO = 1.5
NOTE = (
    "Why the 3× goal is missed here: the speed-up is bounded by two things this run measures. (1) The "
    "bare model gains only the “32 single encodes ÷ one call of 32” factor from batching on these two "
    "shared cores (the encoder is compute-bound, not call-overhead-bound), so a batched question costs a "
    "lone encode divided by that factor (about 1 with ONNX Runtime, whose per-call overhead is small: "
    "padding a batch to its longest question costs what batching saves). (2) The rest of a request holds "
    "Python's GIL (retrieval, sentence ranking, answer composition, FastAPI and the middleware): the "
    "model-free row is the same service with a free encoder, the most any batching could give (with the "
    "ONNX default a single question is fast enough that this ceiling is under 3× the one-at-a-time "
    "req/s). A py-spy profile of the model-free service at concurrency 32 (GIL-holding samples) put 56% "
    "of the time in `QAPipeline.ask` (answer composition 28%, a third of it the `re.sub` of "
    "`rag/answer.py` `_normalised`) and 23% in the event loop, routing and middleware. (3) Since the "
    "cross-encoder reranker, every request also runs 4 question/sentence pairs through a 6-layer MiniLM, "
    "about 35 ms of compute-bound work on these two cores that no batching shortens; that is most of the "
    "c=1 latency, and the concurrent req/s can only gain what a batched forward pass gains over single ones "
    "(`RAG_RERANK_SKIP_MARGIN` skips it where the learned ranker leads clearly, at a measured cost in answers)."
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Phase:
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)


class Service:
    """``python -m api.cli serve`` in its own process, stopped by its pid.

    ``repo`` and ``module`` start another checkout's server with this interpreter instead (its code on
    ``PYTHONPATH``, its seeds served), e.g. 0.2.0's ``python -m rag.cli serve`` for benchmarks/profile_ask.py.
    """

    def __init__(
        self, index_dir: Path, env: dict[str, str], log: Path, *, repo: Path = REPO, module: str = "api.cli"
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {
            **os.environ,
            "PYTHONPATH": str(repo),
            "RAG_SEEDS_DIR": str(repo / "seeds"),
            "RAG_INDEX_DIR": str(index_dir),
            "RAG_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            **env,
        }
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, "serve", "--port", str(self.port)],
                cwd=index_dir.parent,
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with {self.process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the service did not become healthy in 120 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


async def _drive(url: str, questions: list[str], requests: int, concurrency: int) -> Phase:
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal next_index, errors
            while next_index < requests:
                question = questions[next_index % len(questions)]
                next_index += 1
                sent = time.perf_counter()
                try:
                    response = await client.post("/ask", json={"question": question})
                    if response.status_code != 200:
                        errors += 1
                        kinds[str(response.status_code)] = kinds.get(str(response.status_code), 0) + 1
                except httpx.HTTPError as exc:
                    errors += 1
                    kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                latencies.append((time.perf_counter() - sent) * 1000)

        # Warm the connections and the server's threads before the clock starts.
        await asyncio.gather(*(client.post("/ask", json={"question": questions[i]}) for i in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    if kinds:
        print(f"errors at concurrency {concurrency}: {kinds}", file=sys.stderr)
    return Phase(concurrency, requests, seconds, latencies, errors)


def _merge(phases: list[Phase]) -> Phase:
    return Phase(
        phases[0].concurrency,
        sum(p.requests for p in phases),
        sum(p.seconds for p in phases),
        [ms for p in phases for ms in p.latencies_ms],
        sum(p.errors for p in phases),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests at concurrency 1 (x4 at the high one)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--encodes", type=int, default=200, help="bare single-question encodes to time")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="LABEL:VAR=VALUE,...",
        help="also serve with these RAG_* variables, in the same rounds (repeatable), "
        "e.g. 'int8 reranker:RAG_RERANK_RUNTIME=onnx-int8'",
    )
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 2:
        parser.error("--requests must be at least 1 and --concurrency at least 2")
    c = args.concurrency
    questions = [json.loads(line)["question"] for line in (REPO / "tests/data/dev_gold.jsonl").open(encoding="utf-8")]
    configs = [("micro-batching off (RAG_MAX_BATCH=1)", {"RAG_MAX_BATCH": "1"}), ("micro-batching on (defaults)", {})]
    try:
        extra = [parse_config(spec) for spec in args.config]
    except ValueError as exc:
        parser.error(str(exc))
    # Everything but the encoder: the same service with the model-free hashing embedder (its own index).
    ceiling = "model-free embedder (RAG_MODEL=hashing), the ceiling"
    results: dict[str, tuple[Phase, Phase]] = {}
    encodes: list[float] = []
    batch_encodes: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index" / "default"
        settings = Settings(seeds_dir=REPO / "seeds", index_dir=index_dir, _env_file=None)  # type: ignore[call-arg]
        encoder = settings.encoder  # RAG_ENCODER in the environment reaches the servers too
        pipeline = build_pipeline(settings)
        pipeline.warm_up()
        model = pipeline.embedder
        inner = getattr(model, "inner", model)  # the bare model, not the batcher

        def time_encodes(count: int) -> None:
            def run() -> None:
                for i in range(count):
                    started = time.perf_counter()
                    inner.embed([questions[i % len(questions)]])
                    encodes.append((time.perf_counter() - started) * 1000)

            # In a worker thread, as the service encodes (see the note in the docs section).
            worker = threading.Thread(target=run)
            worker.start()
            worker.join()

        import torch

        threads = torch.get_num_threads()
        time_encodes(args.encodes // 2)

        def time_batches() -> None:
            for i in range(10):
                started = time.perf_counter()
                inner.embed([questions[(i * c + j) % len(questions)] for j in range(c)])
                batch_encodes.append((time.perf_counter() - started) * 1000)

        worker = threading.Thread(target=time_batches)
        worker.start()
        worker.join()
        hashing_index = Path(tmp) / "hashing" / "default"
        hashing_index.parent.mkdir(parents=True)
        # RAG_ENCODER=onnx names the bundled model, which the hashing embedder is not; it has no encoder to choose.
        runs = [*configs, *extra, (ceiling, {"RAG_MODEL": "hashing", "RAG_ENCODER": "torch"})]
        services: dict[str, Service] = {}
        try:
            for name, env in runs:
                services[name] = Service(hashing_index if name == ceiling else index_dir, env, Path(tmp) / "serve.log")
            # One-at-a-time phases interleaved in rounds, so slow spells of the shared machine hit every configuration.
            ones: dict[str, list[Phase]] = {name: [] for name in services}
            rounds = 4
            for _ in range(rounds):
                for name, service in services.items():
                    ones[name].append(asyncio.run(_drive(service.url, questions, max(1, args.requests // rounds), 1)))
            for name, service in services.items():
                many = asyncio.run(_drive(service.url, questions, args.requests * 4, c))
                results[name] = (_merge(ones[name]), many)
                one = results[name][0]
                print(
                    f"{name}: c=1 {one.rps:.1f} req/s p50 {one.p50:.1f} ms; c={c} {many.rps:.1f} req/s "
                    f"p50 {many.p50:.1f} ms p95 {many.p95:.1f} ms; errors {one.errors + many.errors}",
                    file=sys.stderr,
                )
        finally:
            for service in services.values():
                service.stop()
        time_encodes(args.encodes - args.encodes // 2)
    encode_p50 = statistics.median(encodes)
    (off_one, off_many), (on_one, on_many) = results[configs[0][0]], results[configs[1][0]]
    speedup = on_many.rps / on_one.rps
    floor_ratio = on_one.p50 / encode_p50
    errors = sum(p.errors for pair in results.values() for p in pair)
    batch_p50 = statistics.median(batch_encodes)
    rows = [
        ("bare model, one question encoded, p50", f"{encode_p50:.1f} ms", "", ""),
        (f"bare model, {c} questions in one call, p50", f"{batch_p50:.1f} ms", "", ""),
        (f"bare model: {c} single encodes ÷ one call of {c}", f"{c * encode_p50 / batch_p50:.1f}×", "", ""),
    ]
    for name, (one, many) in results.items():
        rows += [
            (f"{name}: c=1 req/s", f"{one.rps:.1f}", "", ""),
            (f"{name}: c=1 /ask p50 / p95", f"{one.p50:.1f} / {one.p95:.1f} ms", "", ""),
            (f"{name}: c={c} req/s", f"{many.rps:.1f}", "", ""),
            (f"{name}: c={c} /ask p50 / p95", f"{many.p50:.1f} / {many.p95:.1f} ms", "", ""),
        ]
    rows += [
        (
            f"req/s at c={c} ÷ req/s at c=1 (batching on)",
            f"{speedup:.2f}×",
            f"≥ {GOAL_SPEEDUP:.0f}×",
            _ok(speedup >= 3),
        ),
        (f"same without batching, for comparison (off, c={c} ÷ c=1)", f"{off_many.rps / off_one.rps:.2f}×", "", ""),
        (
            f"ceiling: model-free c={c} req/s ÷ model c=1 req/s",
            f"{results[ceiling][1].rps / on_one.rps:.2f}×",
            "",
            "",
        ),
        ("errors (all phases)", str(errors), "0", _ok(errors == 0)),
        (
            "c=1 /ask p50, batching on ÷ off",
            f"{on_one.p50 / off_one.p50:.2f}×",
            "not worse (≤ 1.05×, noise)",
            _ok(on_one.p50 <= off_one.p50 * 1.05),
        ),
        (
            "c=1 /ask p50 ÷ bare encode p50 (batching on)",
            f"{floor_ratio:.2f}×",
            f"≤ {GOAL_FLOOR_RATIO}×",
            _ok(floor_ratio <= GOAL_FLOOR_RATIO),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, goal, verdict in rows:
        print(f"{name:<{width}}  {value:>16}  {goal:<26} {verdict}")
    if args.write_docs:
        table = "\n".join(
            ["| measure | value | goal | |", "| --- | ---: | --- | --- |", *(f"| {' | '.join(r)} |" for r in rows)]
        )
        body = (
            f"Command: `RAG_ENCODER={encoder} python -m benchmarks.load --requests {args.requests} --concurrency {c} "
            + "".join(f"--config {shlex.quote(spec)} " for spec in args.config)
            + "--write-docs`  \n"
            f"Date: {utc_date()}  \nMachine: {machine_description()}; torch intra-op threads {threads}\n\n{table}\n\n"
            f"Each configuration is a separate `python -m api.cli serve` process on 127.0.0.1, driven by an async "
            f"httpx client in the benchmark's process: {args.requests} requests one at a time, then "
            f"{args.requests * 4} with {c} in flight, the 81 development questions in turn. The questions repeat, so "
            "the servers run without the answer cache (`RAG_ANSWER_CACHE_SIZE=0`) unless a configuration sets it: "
            "with it, every request after a question's first is a cache hit. The model-free run "
            "(hashing embedder) is the same service without the encoder, and without the cross-encoder reranker that "
            "the model configurations run on every request (the hashing embedder turns it off): no batching can take "
            "the service past its req/s. The one-at-a-time phases of the configurations are interleaved in 4 "
            "rounds. The bare encode is "
            "the model's `embed([question])` in a worker thread of the benchmark process while the servers are idle, "
            "as the service encodes in its worker threads: on this shared machine torch's two-thread parallel "
            "regions called from a process's main thread were up to 25× slower than from another thread "
            "(a 64×384 by 384×1536 matmul: 24 ms vs 0.9 ms), so a main-thread figure would flatter the ratio. "
            "The client shares "
            "the machine's two cores with the server, so the figures are ratios of one run, not capacities.\n\n" + NOTE
        )
        update_docs_section(f"Service under load: micro-batching (RAG_ENCODER={encoder})", body)
    return 0


def parse_config(spec: str) -> tuple[str, dict[str, str]]:
    """``label:RAG_X=1,RAG_Y=2`` → the label and its environment; a malformed spec raises ValueError."""
    label, sep, assignments = spec.partition(":")
    env: dict[str, str] = {}
    for pair in assignments.split(","):
        name, eq, value = pair.strip().partition("=")
        if not eq or not name.startswith("RAG_"):
            raise ValueError(f"--config takes LABEL:RAG_VAR=VALUE,..., got {spec!r}")
        env[name] = value
    if not sep or not label.strip():
        raise ValueError(f"--config takes LABEL:RAG_VAR=VALUE,..., got {spec!r}")
    return label.strip(), env


def _ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


if __name__ == "__main__":
    run_main(main)
