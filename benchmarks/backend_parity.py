"""Same answers on both stores: the seeds indexed with the real model into files (FAISS) and into
PostgreSQL (pgvector), then the development set and the FAQ asked of both.

    bash scripts/postgres.sh start        # prints the DSN
    python -m benchmarks.backend_parity --database-url postgresql://postgres@127.0.0.1:5433/rag

Prints, per gold set, the share of questions whose first answer sentence is the same on both, and
each metric of ``rag eval`` on both with the difference; exits 1 when fewer than 90% agree or a
quality metric differs by more than one point (0.01), the bar of issue 11 (latencies are printed, not gated).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
from pydantic import SecretStr

from benchmarks.common import markdown_table
from rag.config import Settings
from rag.evaluation.evaluate import evaluate
from rag.evaluation.gold import GoldItem, faq_gold_items, load_gold
from rag.pipeline import QAPipeline, build_pipeline, make_embedder

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DEV_GOLD = REPO / "tests" / "data" / "dev_gold.jsonl"
FAQ_DOC = SEEDS / "004_286debfea32733cf.txt"


def first_sentence(pipeline: QAPipeline, question: str) -> str | None:
    answer = pipeline.ask(question)
    return answer.sentences[0].text if answer.sentences else None


def compare(name: str, items: list[GoldItem], files: QAPipeline, postgres: QAPipeline) -> tuple[list[str], bool]:
    same = sum(first_sentence(files, i.question) == first_sentence(postgres, i.question) for i in items)
    on_files, on_pg = evaluate(files, items).metrics, evaluate(postgres, items).metrics
    rows = []
    ok = same / len(items) >= 0.9
    for metric, value in on_files.items():
        other = on_pg.get(metric)
        if value is None or other is None:
            continue
        diff = other - value
        if not metric.startswith(("latency.", "questions.")):  # timings vary run to run; counts are inputs
            ok &= abs(diff) <= 0.01 + 1e-9
        rows.append([metric, f"{value:.3f}", f"{other:.3f}", f"{diff:+.3f}"])
    lines = [
        f"### {name}: {len(items)} questions, same first answer sentence {same}/{len(items)} ({same / len(items):.3f})",
        "",
        markdown_table(["metric", "files (FAISS)", "postgres (pgvector)", "difference"], rows),
        "",
    ]
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    schema = f"parity_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(seeds_dir=SEEDS, index_dir=Path(tmp) / "index", _env_file=None)  # type: ignore[call-arg]
        embedder = make_embedder(base)
        files = build_pipeline(base, embedder=embedder)
        pg_settings = base.model_copy(
            update={"store": "postgres", "database_schema": schema, "database_url": SecretStr(args.database_url)}
        )
        postgres = build_pipeline(pg_settings, embedder=embedder)
        try:
            report: list[str] = []
            ok = True
            faq_items = faq_gold_items(FAQ_DOC.stem, FAQ_DOC.read_text(encoding="utf-8"))
            for name, items in (("dev set", load_gold(DEV_GOLD)), ("FAQ", faq_items)):
                lines, passed = compare(name, items, files, postgres)
                report += lines
                ok &= passed
            print("\n".join(report))
        finally:
            if postgres.backend is not None:
                postgres.backend.close()
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
