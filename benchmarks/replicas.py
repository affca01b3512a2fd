"""Requests/s of real API processes sharing one PostgreSQL store: one ``rag serve`` against two.

    bash scripts/postgres.sh start
    python -m benchmarks.replicas --database-url postgresql://postgres@127.0.0.1:5433/rag

Indexes the seeds with the bundled model into a fresh schema, then starts ``python -m api.cli serve``
with ``RAG_STORE=postgres`` once and twice (each its own process, pool and snapshot) and drives
``POST /ask`` with the 81 development questions at ``--concurrency`` in total, split evenly across the
replicas; the file store with one process is the reference. Between phases one replica writes an article
and the other is asked about it, so the figure includes the per-request version check that keeps
replicas consistent. Prints requests/s and p50/p95 latency per configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import psycopg
from pydantic import SecretStr

from benchmarks.common import machine_description, markdown_table
from benchmarks.load import Phase, Service, _drive, _merge
from rag.config import Settings
from rag.evaluation.gold import load_gold
from rag.pipeline import build_pipeline

REPO = Path(__file__).resolve().parents[1]
DEV_GOLD = REPO / "tests" / "data" / "dev_gold.jsonl"
KEY = "replica-benchmark-key"


async def _drive_all(urls: list[str], questions: list[str], requests: int, concurrency: int) -> Phase:
    share = max(1, concurrency // len(urls))
    phases = await asyncio.gather(*(_drive(url, questions, requests // len(urls), share) for url in urls))
    merged = _merge(list(phases))
    # The replicas ran at the same time: wall time is the longest phase, not the sum.
    return Phase(concurrency, merged.requests, max(p.seconds for p in phases), merged.latencies_ms, merged.errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    questions = [item.question for item in load_gold(DEV_GOLD)]
    schema = f"replicas_{uuid.uuid4().hex[:8]}"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index" / "default"
        files = Settings(seeds_dir=REPO / "seeds", index_dir=index_dir, _env_file=None)  # type: ignore[call-arg]
        build_pipeline(files)  # the file index and the ONNX export, once
        pg = files.model_copy(
            update={"store": "postgres", "database_url": SecretStr(args.database_url), "database_schema": schema}
        )
        pg_backend = build_pipeline(pg).backend
        assert pg_backend is not None
        pg_backend.close()
        env_pg = {
            "RAG_STORE": "postgres",
            "RAG_DATABASE_URL": args.database_url,
            "RAG_DATABASE_SCHEMA": schema,
            "RAG_WRITE_KEYS": KEY,
            "RAG_ONNX_DIR": str(files.onnx_path()),
        }
        log = Path(tmp) / "services.log"
        try:
            for label, count, env in (("files, 1 process", 1, {}), ("postgres, 1 process", 1, env_pg),
                                      ("postgres, 2 processes", 2, env_pg)):  # fmt: skip
                services = [Service(index_dir, env, log) for _ in range(count)]
                try:
                    urls = [s.url for s in services]
                    if count == 2:  # a write on one replica is answered by the other at once
                        article = {"id": f"bench-{uuid.uuid4().hex[:6]}", "text": "The Orvel dam opened on 4 May."}
                        headers = {"Authorization": f"Bearer {KEY}"}
                        assert httpx.post(f"{urls[0]}/documents", json=article, headers=headers, timeout=60).is_success
                        seen = httpx.get(f"{urls[1]}/documents/{article['id']}", timeout=60).status_code
                        print(f"write on replica 1, read on replica 2: {seen}", file=sys.stderr)
                    phase = asyncio.run(_drive_all(urls, questions, args.requests, args.concurrency))
                finally:
                    for service in services:
                        service.stop()
                rows.append([label, f"{phase.rps:.1f}", f"{phase.p50:.0f}", f"{phase.p95:.0f}", str(phase.errors)])
        finally:
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print(f"{args.requests} POST /ask at concurrency {args.concurrency} in total; {machine_description()}\n")
    print(markdown_table(["service", "requests/s", "p50 ms", "p95 ms", "errors"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
