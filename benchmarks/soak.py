"""A bounded soak: reads at high concurrency against a real ``rag serve`` with writes mixed in.

    python -m benchmarks.soak [--minutes 2] [--concurrency 32] [--write-interval 1.0] [--model hashing]

Starts ``rag serve`` as a child process on 127.0.0.1 (a copy of the seeds, a temporary index, a
random write key), then for ``--minutes`` keeps ``--concurrency`` clients asking the development
questions (``POST /ask``, with ``GET /search`` and ``GET /faq`` mixed in) while one writer adds,
replaces and deletes articles every ``--write-interval`` seconds. Prints errors, read and write
latency percentiles and the server's resident memory (VmRSS) after warm-up, at its peak and at
the end. Stops by itself; exit status 1 when any request failed or RSS grew more than
``--max-rss-growth-mb``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.common import machine_description, run_main, utc_date
from rag.evaluation.metrics import percentile

REPO = Path(__file__).resolve().parents[1]
WORDS = "harbour ferry council budget strike vote minister bridge rail festival grain export tariff court".split()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def record(self, name: str, seconds: float, status: int | str, ok: bool, detail: str = "") -> None:
        self.latencies.setdefault(name, []).append(seconds)
        self.statuses[f"{name} {status}"] += 1
        if not ok and len(self.errors) < 20:
            self.errors.append(f"{name} {status} {detail[:200]}")
        elif not ok:
            self.errors.append("")


def _article(number: int, rng: random.Random, revision: int = 0, prefix: str = "soak") -> dict[str, str]:
    sentences = [" ".join(rng.choice(WORDS) for _ in range(10)).capitalize() + "." for _ in range(12)]
    text = f"Soak article {number}, revision {revision}.\n\n" + "\n\n".join(
        " ".join(sentences[i : i + 3]) for i in range(0, 12, 3)
    )
    return {"id": f"{prefix}-{number}", "title": f"Soak article {number}", "text": text, "source": "soak"}


async def reader(client: httpx.AsyncClient, questions: list[str], deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        roll = rng.random()
        started = time.perf_counter()
        try:
            if roll < 0.8:
                name = "POST /ask"
                response = await client.post("/ask", json={"question": rng.choice(questions)})
            elif roll < 0.97:
                name = "GET /search"
                response = await client.get("/search", params={"q": rng.choice(questions), "k": 5})
            else:
                name = "GET /faq"
                response = await client.get("/faq")
        except httpx.HTTPError as exc:
            tally.record(name, time.perf_counter() - started, type(exc).__name__, False, str(exc))
            continue
        ok = response.status_code == 200
        tally.record(name, time.perf_counter() - started, response.status_code, ok, "" if ok else response.text)


async def writer(
    client: httpx.AsyncClient, key: str, interval: float, deadline: float, tally: Tally, prefix: str = "soak"
) -> None:
    """Add a new article, replace the newest, delete the oldest (once five are live), in turn."""
    rng = random.Random(7)
    headers = {"Authorization": f"Bearer {key}"}
    live: list[int] = []
    step = 0
    next_number = 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            if step % 3 == 0 or not live:
                name = "POST /documents (add)"
                response = await client.post(
                    "/documents", json=_article(next_number, rng, prefix=prefix), headers=headers
                )
                live.append(next_number)
                next_number += 1
            elif step % 3 == 1:
                name = "POST /documents (replace)"
                response = await client.post(
                    "/documents", json=_article(live[-1], rng, step, prefix=prefix), headers=headers
                )
            elif len(live) > 5:
                name = "DELETE /documents"
                response = await client.delete(f"/documents/{prefix}-{live.pop(0)}", headers=headers)
            else:
                name = "POST /reindex"
                response = await client.post("/reindex", headers=headers)
        except httpx.HTTPError as exc:
            tally.record(name, time.perf_counter() - started, type(exc).__name__, False, str(exc))
        else:
            ok = response.status_code == 200
            tally.record(name, time.perf_counter() - started, response.status_code, ok, "" if ok else response.text)
        step += 1
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def sample_rss(pid: int, deadline: float, samples: list[float]) -> None:
    while time.monotonic() < deadline:
        samples.append(rss_mb(pid))
        await asyncio.sleep(2.0)


async def soak(
    url: str, pid: int, key: str, args: argparse.Namespace, questions: list[str]
) -> tuple[Tally, Tally, list[float]]:
    limits = httpx.Limits(max_connections=args.concurrency + 2, max_keepalive_connections=args.concurrency + 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        # Warm-up at full concurrency, with writes, not counted: thread pools and allocator arenas fill up here.
        warm_deadline = time.monotonic() + args.warmup_seconds
        warm = Tally()
        warm_tasks = [reader(client, questions, warm_deadline, warm, 1000 + seed) for seed in range(args.concurrency)]
        warm_tasks.append(writer(client, key, args.write_interval, warm_deadline, warm, prefix="warm"))
        await asyncio.gather(*warm_tasks)
        samples = [rss_mb(pid)]
        deadline = time.monotonic() + args.minutes * 60
        tally = Tally()
        tasks = [reader(client, questions, deadline, tally, seed) for seed in range(args.concurrency)]
        tasks.append(writer(client, key, args.write_interval, deadline, tally))
        tasks.append(sample_rss(pid, deadline, samples))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.minutes * 60 + 120)
        samples.append(rss_mb(pid))
        return tally, warm, samples


def start_server(root: Path, key: str, model: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "RAG_SEEDS_DIR": str(root / "seeds"),
        "RAG_INDEX_DIR": str(root / "index" / "default"),
        "RAG_WRITE_KEYS": key,
        "RAG_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }
    if model:
        env["RAG_MODEL"] = model
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=root, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"rag serve exited with {process.returncode}:\n{(root / 'serve.log').read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("rag serve did not start within 180 s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--write-interval", type=float, default=1.0, help="seconds between writes")
    parser.add_argument("--model", help="RAG_MODEL for the server (default: the bundled model; 'hashing' is fast)")
    parser.add_argument("--warmup-seconds", type=float, default=30.0, help="full load before RSS is measured")
    parser.add_argument("--max-rss-growth-mb", type=float, default=150.0)
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= 60 or args.concurrency < 1 or args.write_interval <= 0:
        parser.error("--minutes must be in (0, 60], --concurrency at least 1, --write-interval positive")
    questions = [json.loads(line)["question"] for line in (REPO / "tests/data/dev_gold.jsonl").open(encoding="utf-8")]
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="rag-soak-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "seeds", root / "seeds")
        process, url = start_server(root, key, args.model)
        try:
            tally, warm, samples = asyncio.run(soak(url, process.pid, key, args, questions))
            health = httpx.get(f"{url}/health", timeout=10).json()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    errors = len(tally.errors)
    if warm_errors := len(warm.errors):
        print(f"warm-up errors: {warm_errors}")
    total = sum(len(v) for v in tally.latencies.values())
    growth = samples[-1] - samples[0]
    print(f"# soak: {utc_date()}")
    print(f"machine: {machine_description()}")
    print(
        f"command: python -m benchmarks.soak --minutes {args.minutes:g} --concurrency {args.concurrency} "
        f"--write-interval {args.write_interval:g} --warmup-seconds {args.warmup_seconds:g}"
        + (f" --model {args.model}" if args.model else "")
    )
    print(f"server model: {health.get('model')}; documents at the end: {health.get('documents')}")
    print(f"requests: {total} in {args.minutes:g} min ({total / (args.minutes * 60):.1f}/s); errors: {errors}")
    print(f"{'endpoint':28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in sorted(tally.latencies.items()):
        ms = [v * 1000 for v in values]
        print(
            f"{name:28} {len(ms):>6} {percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f} "
            f"{percentile(ms, 99):>8.1f} {max(ms):>8.1f}"
        )
    print("statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items())))
    print(
        f"server RSS: {samples[0]:.1f} MB after warm-up, peak {max(samples):.1f} MB, "
        f"end {samples[-1]:.1f} MB, growth {growth:+.1f} MB (bound {args.max_rss_growth_mb:g} MB)"
    )
    trace = samples[:: max(1, len(samples) // 12)] + samples[-1:]
    step = 2 * max(1, len(samples) // 12)
    print(f"RSS trace (MB, every ~{step}s): " + " ".join(f"{v:.0f}" for v in trace))
    for error in [e for e in tally.errors if e][:10]:
        print(f"error: {error}")
    return 0 if errors == 0 and growth <= args.max_rss_growth_mb else 1


if __name__ == "__main__":
    run_main(main)
