"""What the first write after a start costs, with the entity tagger warmed at start-up or not.

    python -m benchmarks.first_write [--trials 3] [--write-docs]

The entity tagger (spaCy's small English pipeline) tags only written articles, so a service that only
reads never needs it. With writes enabled, start-up loads it (``QAPipeline.warm_up(writes=True)``);
before, the first ``POST /documents`` after every start paid that load. Each trial starts a fresh
process per configuration, in turn, so that nothing is cached between them: the app over a saved index
of the seeds (hashing embedder, so that the embedding model's load does not hide the tagger's), then
two one-article writes. Medians over the trials.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import machine_description, markdown_table, run_main, update_docs_section, utc_date

REPO = Path(__file__).resolve().parents[1]
KEY = "first-write-benchmark-key"
CONFIGS = {
    "read-only (no write keys)": {"writes": False, "warm_tagger": False},
    "writes, tagger loaded on first write (before)": {"writes": True, "warm_tagger": False},
    "writes, tagger warmed at start-up (shipped)": {"writes": True, "warm_tagger": True},
}


def _child(root: Path, writes: bool, warm_tagger: bool) -> dict[str, float]:
    """Start the app in this process and time its start and first two writes."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from rag.config import Settings
    from rag.pipeline import QAPipeline

    if not warm_tagger:
        warm_up = QAPipeline.warm_up

        def without_tagger(self: QAPipeline, *, writes: bool = False) -> None:
            warm_up(self, writes=False)

        QAPipeline.warm_up = without_tagger  # type: ignore[method-assign]
    settings = Settings(
        model="hashing",
        seeds_dir=root / "seeds",
        index_dir=root / "index" / "default",
        write_keys=KEY if writes else "",
        _env_file=None,  # type: ignore[call-arg]
    )
    figures: dict[str, float] = {}
    started = time.perf_counter()
    with TestClient(create_app(settings)) as client:
        figures["start_s"] = time.perf_counter() - started
        for name in ("first_write_s", "second_write_s") if writes else ():
            article = {"id": f"w-{time.time_ns()}", "text": "The next write succeeds."}
            began = time.perf_counter()
            response = client.post("/documents", json=article, headers={"Authorization": f"Bearer {KEY}"})
            figures[name] = time.perf_counter() - began
            if response.status_code != 200:
                raise SystemExit(f"the write failed: {response.status_code} {response.text}")
    return figures


def _run_child(root: Path, config: dict[str, bool]) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.first_write", "--child", str(root)]
    command += ["--writes"] if config["writes"] else []
    command += ["--warm-tagger"] if config["warm_tagger"] else []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the timed process failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="fresh processes per configuration")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--writes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warm-tagger", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(_child(args.child, args.writes, args.warm_tagger)))
        return 0
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "seeds", root / "seeds")
        _run_child(root, CONFIGS["read-only (no write keys)"])  # builds the saved index; not timed
        for _ in range(args.trials):
            for name, config in CONFIGS.items():
                results[name].append(_run_child(root, config))
    header = ["configuration", "start (s)", "first write (s)", "second write (s)"]
    rows = []
    for name, runs in results.items():

        def median(key: str, runs: list[dict[str, float]] = runs) -> str:
            values = [run[key] for run in runs if key in run]
            return f"{statistics.median(values):.2f}" if values else "—"

        rows.append([name, median("start_s"), median("first_write_s"), median("second_write_s")])
    width = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width[i]) for i, cell in enumerate(row)))
    if args.write_docs:
        command = "python -m benchmarks.first_write --write-docs"
        if args.trials != 3:
            command = f"python -m benchmarks.first_write --trials {args.trials} --write-docs"
        body = (
            f"Command: `{command}`  \nDate: {utc_date()}  \nMachine: {machine_description()}\n\n"
            f"Fresh processes, the three configurations in turn, medians of {args.trials} trials (hashing "
            "embedder over the seeds, so the start is the index load plus, with writes, the tagger):\n\n"
            f"{markdown_table(header, rows)}\n\n"
            "With writes enabled the tagger's load moves from the first write to the start; a read-only "
            "service does not load it at all."
        )
        update_docs_section("Entity tagger: the first write after a start", body)
    return 0


if __name__ == "__main__":
    run_main(main)
