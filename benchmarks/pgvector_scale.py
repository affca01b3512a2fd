"""pgvector at scale: load N passages into the PostgreSQL store's schema, build its indexes, and measure
recall@10 against exact search, query latency, and requests/s from one and two query processes.

    bash scripts/postgres.sh start
    python -m benchmarks.pgvector_scale --database-url postgresql://postgres@127.0.0.1:5433/rag --passages 1000000

Vectors are synthesised, not embedded (embedding a million passages on two CPU cores takes days), from
the real all-MiniLM-L6-v2 vectors of the seeds' passages and sentences. ``--data mixture`` (the default)
is the FAISS benchmark's clustered mixture in the real vectors' principal subspace (see
``benchmarks/ann_scale.py``, whose synthesis this reuses, with its defaults); ``--data replicate``
copies the real vectors with Gaussian noise (``--noise`` per dimension), renormalised, almost uniform
around each copy in 384 dimensions (the hardest case for a graph index). Text is
the seeds' passage texts replicated, ten passages to a document, so the ``tsvector`` column and its GIN
index have real English to index. Queries are the development set's questions embedded by the real model,
plus draws from the same synthesis up to ``--queries``; ground truth is exact inner-product search in NumPy.

A request in the throughput test is what the database does for one question: ``dense``, the top-``--depth``
passages from the HNSW index (what the service asks of it today); ``hybrid``, that plus the lexical
top-``--depth`` from the GIN index (the lexical half moved into the database), both through
:class:`rag.stores.postgres.PostgresBackend` (the service's own code path). The query processes stand in
for API replicas; the in-process parts of answering (sentence features, ranking) are not in it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from benchmarks.ann_scale import MIXTURE, Synthesis
from benchmarks.common import machine_description, markdown_table
from rag.config import Settings
from rag.evaluation.gold import load_gold
from rag.pipeline import build_pipeline, make_embedder
from rag.stores.postgres import PostgresBackend

REPO = Path(__file__).resolve().parents[1]
DEV_GOLD = REPO / "tests" / "data" / "dev_gold.jsonl"
PER_DOCUMENT = 10


def seed_material() -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """Real vectors (passages + sentences of the seeds), passage texts, dev question vectors and texts."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", _env_file=None)  # type: ignore[call-arg]
        embedder = make_embedder(settings)
        pipeline = build_pipeline(settings, embedder=embedder)
        base = np.vstack([pipeline.store.passage_vectors(), pipeline.store.sentence_vectors()]).astype(np.float32)
        texts = [p.text for p in pipeline.store.passages]
        questions = [item.question for item in load_gold(DEV_GOLD)]
        return base, texts, embedder.embed(questions).astype(np.float32), questions


def synthesis(base: np.ndarray, args: argparse.Namespace) -> Synthesis:
    """The vector distribution ``--data`` names, with the FAISS benchmark's mixture parameters."""
    settings = argparse.Namespace(data=args.data, noise=args.noise, **MIXTURE)
    return Synthesis(base, settings)


def load(
    url: str,
    schema: str,
    vectors: np.ndarray,
    texts: list[str],
    chunk: int,
    maintenance_gb: float,
    hnsw: tuple[int, int] = (16, 64),
) -> dict[str, float]:
    """Binary COPY of documents and passages (indexes dropped first, built after, each timed)."""
    timings: dict[str, float] = {}
    with psycopg.connect(url, options=f"-c search_path={schema},public", autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP INDEX IF EXISTS passages_embedding_hnsw")
        conn.execute("DROP INDEX IF EXISTS passages_tsv_gin")
        conn.execute("TRUNCATE documents CASCADE")
        started = time.perf_counter()
        count = len(vectors)
        with conn.cursor() as cur:
            for first in range(0, count, chunk):
                last = min(count, first + chunk)
                with conn.transaction():
                    with cur.copy(
                        "COPY documents (doc_id, content_hash, record_hash, title, text, metadata) "
                        "FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        copy.set_types(["text", "text", "text", "text", "text", "jsonb"])
                        for doc in range(first // PER_DOCUMENT, (last + PER_DOCUMENT - 1) // PER_DOCUMENT):
                            body = "\n\n".join(
                                texts[(doc * PER_DOCUMENT + i) % len(texts)] for i in range(PER_DOCUMENT)
                            )
                            copy.write_row((f"d{doc:08d}", "-", "-", f"Replicated article {doc}", body, "{}"))
                    with cur.copy(
                        "COPY passages (doc_id, ordinal, passage_id, start_offset, end_offset, sentence_ordinals, "
                        "lexical_text, embedding) FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        copy.set_types(["text", "int4", "text", "int4", "int4", "int4[]", "text", "vector"])
                        for row in range(first, last):
                            text = texts[row % len(texts)]
                            copy.write_row(
                                (f"d{row // PER_DOCUMENT:08d}", row % PER_DOCUMENT, f"p{row}", 0, len(text), [0],
                                 f"Replicated article {row // PER_DOCUMENT}: {text}", vectors[row])
                            )  # fmt: skip
                print(f"  loaded {last}/{count} passages, {time.perf_counter() - started:.0f}s", file=sys.stderr)
        timings["load_seconds"] = time.perf_counter() - started
        conn.execute("ANALYZE documents")
        conn.execute("ANALYZE passages")
        started = time.perf_counter()
        conn.execute("CREATE INDEX passages_tsv_gin ON passages USING gin (tsv)")
        timings["gin_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        # The graph must fit in maintenance_work_mem: past it pgvector inserts on disk, a hundred times slower.
        conn.execute(f"SET maintenance_work_mem = '{int(maintenance_gb * 1024)}MB'")
        m, ef_construction = hnsw
        conn.execute(
            "CREATE INDEX passages_embedding_hnsw ON passages USING hnsw (embedding vector_ip_ops) "
            f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
        )
        timings["hnsw_seconds"] = time.perf_counter() - started
        conn.execute("UPDATE index_state SET version = version + 1")
        sizes = conn.execute(
            "SELECT pg_total_relation_size('passages'), pg_relation_size('passages_embedding_hnsw'), "
            "pg_relation_size('passages_tsv_gin'), pg_total_relation_size('documents')"
        ).fetchone()
        assert sizes is not None
        timings.update(
            {"passages_bytes": sizes[0], "hnsw_bytes": sizes[1], "gin_bytes": sizes[2], "documents_bytes": sizes[3]}
        )
    return timings


def _worker(
    url: str, schema: str, dimension: int, queries: np.ndarray, words: list[str], kind: str, depth: int,
    seconds: float, threads: int, out: mp.Queue, ready: Any, go: Any,  # type: ignore[type-arg]
) -> None:  # fmt: skip
    backend = PostgresBackend(url, dimension=dimension, schema=schema, pool_size=threads + 1)
    done = [0] * threads
    ready.release()
    go.wait()  # every process has imported and connected: the clocks start together
    stop = time.perf_counter() + seconds

    def run(slot: int) -> None:
        i = slot
        while time.perf_counter() < stop:
            backend.search_passages(queries[i % len(queries)], depth)
            if kind == "hybrid":
                backend.lexical_search(words[i % len(words)], depth)
            done[slot] += 1
            i += threads

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    backend.close()
    out.put(sum(done))


def throughput(url: str, schema: str, dimension: int, queries: np.ndarray, words: list[str], *, kind: str,
               processes: int, threads: int, depth: int, seconds: float) -> float:  # fmt: skip
    context = mp.get_context("spawn")
    out: mp.Queue = context.Queue()  # type: ignore[type-arg]
    ready, go = context.Semaphore(0), context.Event()
    workers = [
        context.Process(
            target=_worker,
            args=(url, schema, dimension, queries, words, kind, depth, seconds, threads, out, ready, go),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    go.set()
    total = sum(out.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", choices=("mixture", "replicate"), default="mixture")
    parser.add_argument(
        "--noise", type=float, default=None, help="noise per dimension (default 0.01 mixture, 0.05 replicate)"
    )
    parser.add_argument("--ef-search", type=int, default=100, help="ef_search of the throughput runs")
    parser.add_argument("--ef-sweep", default="40,200,400", help="comma-separated ef_search values for recall")
    parser.add_argument("--hnsw-m", type=int, default=16, help="HNSW m of the build (pgvector's default)")
    parser.add_argument("--ef-construction", type=int, default=64, help="HNSW ef_construction (pgvector's default)")
    parser.add_argument("--depth", type=int, default=50, help="candidates per retriever in a throughput request")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each throughput run")
    parser.add_argument("--threads", type=int, default=4, help="concurrent requests per query process")
    parser.add_argument("--chunk", type=int, default=50_000, help="passages per COPY transaction")
    parser.add_argument("--schema", default="scale_bench")
    parser.add_argument("--maintenance-gb", type=float, default=5.0, help="maintenance_work_mem for the HNSW build")
    parser.add_argument("--keep", action="store_true", help="keep the loaded schema (otherwise dropped at the end)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    try:
        args.ef_sweep_values = sorted({args.ef_search, *(int(v) for v in args.ef_sweep.split(",") if v.strip())})
    except ValueError:
        parser.error(f"--ef-sweep: comma-separated integers expected, got {args.ef_sweep!r}")
    if not all(1 <= v <= 1000 for v in args.ef_sweep_values):
        parser.error("--ef-search and --ef-sweep values must be between 1 and 1000 (pgvector's range)")
    if not 2 <= args.hnsw_m <= 100 or args.ef_construction < 2 * args.hnsw_m:
        parser.error("--hnsw-m must be between 2 and 100 and --ef-construction at least twice it (pgvector's rules)")
    if args.passages < 10 or args.queries < 1:
        parser.error("--passages must be at least 10 and --queries at least 1")
    if args.noise is None:
        args.noise = 0.01 if args.data == "mixture" else 0.05

    base, texts, question_vectors, questions = seed_material()
    dimension = base.shape[1]
    backend = PostgresBackend(args.database_url, dimension=dimension, schema=args.schema, ef_search=args.ef_search)
    try:
        started = time.perf_counter()
        draws = synthesis(base, args)
        vectors = draws.draw(args.passages, seed=11)
        synth_seconds = time.perf_counter() - started
        figures: dict[str, object] = {"passages": args.passages, "data": args.data, "noise": args.noise}
        figures["synthesise_seconds"] = synth_seconds
        hnsw = (args.hnsw_m, args.ef_construction)
        figures.update(load(args.database_url, args.schema, vectors, texts, args.chunk, args.maintenance_gb, hnsw))
        figures["maintenance_work_mem_gb"] = args.maintenance_gb
        figures["hnsw m / ef_construction"] = f"{args.hnsw_m} / {args.ef_construction}"

        extra = max(0, args.queries - len(question_vectors))
        queries = np.vstack([question_vectors, draws.draw(extra, seed=12)])[: args.queries]
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]  # rows = passage numbers (p{row})
        for ef_search in args.ef_sweep_values:
            backend.ef_search = ef_search
            latencies, recalls = [], []
            for query, truth in zip(queries, exact, strict=True):
                began = time.perf_counter()
                found = backend.search_passages(query, 10)
                latencies.append((time.perf_counter() - began) * 1000)
                rows = {doc_ordinal_row(key) for key, _ in found}
                recalls.append(len(rows & set(truth.tolist())) / 10)
            figures[f"ef_search={ef_search}: recall@10"] = float(np.mean(recalls))
            figures[f"ef_search={ef_search}: recall@10, dev questions"] = float(
                np.mean(recalls[: len(question_vectors)])
            )
            figures[f"ef_search={ef_search}: p50_ms"] = float(np.percentile(latencies, 50))
            figures[f"ef_search={ef_search}: p95_ms"] = float(np.percentile(latencies, 95))
        backend.ef_search = args.ef_search
        lexical_latencies = []
        for question in questions:
            began = time.perf_counter()
            backend.lexical_search(question, args.depth)
            lexical_latencies.append((time.perf_counter() - began) * 1000)
        figures.update(
            {
                "lexical_p50_ms": float(np.percentile(lexical_latencies, 50)),
                "lexical_p95_ms": float(np.percentile(lexical_latencies, 95)),
                "ef_search": args.ef_search,
                "queries": len(queries),
            }
        )
        for kind in ("dense", "hybrid"):
            for processes in (1, 2):
                figures[f"{kind} requests/s, {processes} process(es)"] = throughput(
                    args.database_url, args.schema, dimension, question_vectors, questions, kind=kind,
                    processes=processes, threads=args.threads, depth=args.depth, seconds=args.seconds,
                )  # fmt: skip
        figures["threads_per_process"] = args.threads
        figures["depth"] = args.depth
        figures["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        figures["machine"] = machine_description()
        figures["command"] = "python -m benchmarks.pgvector_scale " + " ".join(argv or sys.argv[1:])
    finally:
        backend.close()
        if not args.keep:
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE")
    rows = [[key, f"{value:.3f}" if isinstance(value, float) else str(value)] for key, value in figures.items()]
    print(markdown_table(["figure", "value"], rows))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


def doc_ordinal_row(key: tuple[str, int]) -> int:
    """The passage number of a ``(doc_id, ordinal)`` key of the loaded data."""
    doc_id, ordinal = key
    return int(doc_id[1:]) * PER_DOCUMENT + ordinal


if __name__ == "__main__":
    sys.exit(main())
