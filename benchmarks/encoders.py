"""Single-question encode latency of the bundled model on torch, ONNX Runtime fp32 and ONNX Runtime int8.

    python -m benchmarks.encoders [--encodes 300] [--write-docs]

All three encoders are loaded in one process (the ONNX graphs are exported first, into a temporary
cache, if they are not there); then every development question is encoded alone by each encoder in
turn, round-robin, in a worker thread as the service does, so a slow spell of the shared machine hits
all three. Also reported: 32 questions in one call, and each ONNX encoder's cosine to torch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import machine_description, markdown_table, run_main, update_docs_section, utc_date
from rag.embedding import Embedder, SentenceTransformerEmbedder
from rag.onnx_embedding import OnnxEmbedder

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encodes", type=int, default=300, help="single-question encodes per encoder")
    parser.add_argument("--onnx-dir", type=Path, help="cache of exported graphs (default: a temporary directory)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    questions = [json.loads(line)["question"] for line in (REPO / "tests/data/dev_gold.jsonl").open(encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.onnx_dir or Path(tmp) / "onnx"
        encoders: dict[str, Embedder] = {
            "torch (sentence-transformers)": SentenceTransformerEmbedder(),
            "onnx fp32": OnnxEmbedder(cache, "fp32"),
            "onnx int8": OnnxEmbedder(cache, "int8"),
        }
        single: dict[str, list[float]] = {name: [] for name in encoders}
        batch: dict[str, list[float]] = {name: [] for name in encoders}
        vectors: dict[str, np.ndarray] = {}

        def run() -> None:
            for name, encoder in encoders.items():
                vectors[name] = encoder.embed(questions)  # loads (and exports) and warms up
            # Blocks of 20 questions per encoder, taking turns: a slow spell of the machine hits all three,
            # and one runtime's idle threads (torch's OpenMP team spins a while after a call) rarely
            # overlap the other's calls.
            block = 20
            for first in range(0, args.encodes, block):
                for name, encoder in encoders.items():
                    encoder.embed([questions[first % len(questions)]])  # the block's first call is not timed
                    for i in range(first, min(first + block, args.encodes)):
                        started = time.perf_counter()
                        encoder.embed([questions[i % len(questions)]])
                        single[name].append((time.perf_counter() - started) * 1000)
            for i in range(10):
                group = [questions[(i * 32 + j) % len(questions)] for j in range(32)]
                for name, encoder in encoders.items():
                    started = time.perf_counter()
                    encoder.embed(group)
                    batch[name].append((time.perf_counter() - started) * 1000)

        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    reference = vectors["torch (sentence-transformers)"]
    base = statistics.median(single["torch (sentence-transformers)"])
    rows = []
    for name in encoders:
        p50 = statistics.median(single[name])
        cosine = (vectors[name] * reference).sum(axis=1)
        rows.append(
            [
                name,
                f"{p50:.2f} ms",
                f"{base / p50:.2f}×",
                f"{statistics.median(batch[name]) / 32:.2f} ms",
                f"{cosine.min():.4f} / {cosine.mean():.4f}",
            ]
        )
    header = [
        "encoder",
        "one question, p50",
        "speed-up vs torch",
        "per question in a call of 32",
        "cosine to torch min / mean",
    ]
    width = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width[i]) for i, cell in enumerate(row)))
    if args.write_docs:
        table = markdown_table(header, rows)
        body = (
            f"Command: `python -m benchmarks.encoders --encodes {args.encodes} --write-docs`  \n"
            f"Date: {utc_date()}  \nMachine: {machine_description()}\n\n{table}\n\n"
            f"{args.encodes} single-question encodes per encoder (the 81 development questions in turn), the "
            "encoders taking turns in blocks of 20 in one worker thread; cosines over the 81 questions. int8 is "
            "`onnxruntime.quantization.quantize_dynamic` with per-channel QInt8 weights."
        )
        update_docs_section("Encoders: torch vs ONNX Runtime", body)
    return 0


if __name__ == "__main__":
    run_main(main)
