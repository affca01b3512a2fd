"""Would batching the cross-encoder's pairs across concurrent requests raise throughput?

    python -m benchmarks.rerank_batching [--trials 24] [--runtime onnx] [--write-docs]

Every request re-scores its best 4 sentences with the cross-encoder, the largest part of a request's
work. Micro-batching helps only if one forward pass of ``4 × n`` pairs costs less than ``n`` passes of 4.
For n = 1, 2, 4 and 8 development questions (each with 4 of the seed corpus's sentences, as
``title: sentence`` pairs), this times, interleaved in one process: the n passes of 4 pairs, one per
question, as the service runs them today; and one pass of all ``4 × n`` pairs. The batched pass pairs
every sentence with the first question, since the reranker's call takes one question; the questions'
lengths differ by a few tokens, so padding is about what a mixed batch would pad. Medians per trial.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import machine_description, markdown_table, run_main, update_docs_section, utc_date
from rag.chunking import sentences_of
from rag.ingest import load_documents
from rag.reranker import RUNTIMES, CrossEncoderReranker, pair_text

REPO = Path(__file__).resolve().parents[1]
PAIRS_PER_REQUEST = 4
REQUESTS = (1, 2, 4, 8)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24, help="timed trials per batch size")
    parser.add_argument("--runtime", choices=list(RUNTIMES), default="onnx", help="what runs the reranker")
    parser.add_argument("--onnx-dir", type=Path, help="cache of the exported graph (default: a temporary directory)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    questions = [json.loads(line)["question"] for line in (REPO / "tests/data/dev_gold.jsonl").open(encoding="utf-8")]
    documents, _ = load_documents([REPO / "seeds"])
    candidates = [pair_text(d.title, s.text) for d in documents for s in sentences_of(d) if not s.is_heading]
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        reranker = CrossEncoderReranker(runtime=args.runtime, cache_dir=args.onnx_dir or Path(tmp) / "onnx")
        reranker.warm_up()
        reranker.logits(questions[0], candidates[:PAIRS_PER_REQUEST])
        separate: dict[int, list[float]] = {n: [] for n in REQUESTS}
        batched: dict[int, list[float]] = {n: [] for n in REQUESTS}
        for _ in range(args.trials):
            for n in REQUESTS:
                asked = rng.sample(questions, n)
                chosen = [rng.sample(candidates, PAIRS_PER_REQUEST) for _ in asked]
                started = time.perf_counter()
                for question, sentences in zip(asked, chosen, strict=True):
                    reranker.logits(question, sentences)
                separate[n].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                reranker.logits(asked[0], [s for sentences in chosen for s in sentences])
                batched[n].append((time.perf_counter() - started) * 1000)
    header = [
        "requests",
        "pairs",
        "n passes of 4 (ms)",
        "one pass of 4·n (ms)",
        "per request, batched (ms)",
        "batched ÷ separate",
    ]
    rows = []
    for n in REQUESTS:
        one_by_one, together = statistics.median(separate[n]), statistics.median(batched[n])
        rows.append(
            [
                str(n),
                str(n * PAIRS_PER_REQUEST),
                f"{one_by_one:.1f}",
                f"{together:.1f}",
                f"{together / n:.1f}",
                f"{together / one_by_one:.2f}×",
            ]
        )
    width = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width[i]) for i, cell in enumerate(row)))
    if args.write_docs:
        command = "python -m benchmarks.rerank_batching --write-docs"
        if args.runtime != "onnx" or args.trials != 24:
            command = (
                f"python -m benchmarks.rerank_batching --runtime {args.runtime} --trials {args.trials} --write-docs"
            )
        body = (
            f"Command: `{command}`  \nDate: {utc_date()}  \nMachine: {machine_description()}\n\n"
            f"The cross-encoder ({args.runtime}), medians of {args.trials} interleaved trials:\n\n"
            f"{markdown_table(header, rows)}\n\n"
            "A ratio near 1× or above means that one pass over the pairs of several requests costs what their "
            "separate passes cost: the model is compute-bound on these cores, so batching the reranker across "
            "concurrent requests cannot raise requests/s, and the concurrency-32 goal (3× the requests/s of "
            "concurrency 1) is out of reach while every request runs it."
        )
        update_docs_section("Reranker: batching pairs across requests", body)
    return 0


if __name__ == "__main__":
    run_main(main)
