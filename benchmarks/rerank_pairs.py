"""Build the training pairs of the cross-encoder reranker from the ranker's fitting data.

Every fitted question (SQuAD even-numbered articles, RealtimeQA weeks outside the benchmark's) is
run through the shipped retrieval and learned ranker; its best ``--depth`` candidates become
``(question, title: sentence, label)`` pairs. Each question's twin with its answer taken out adds
its best ``--twin-depth`` candidates, all negative, so the reranker also learns what an absent
answer looks like. Groups (article or week) are kept so that training can hold out whole groups.

    python -m benchmarks.rerank_pairs --out /tmp/ce/pairs.jsonl --cache-dir /tmp/fitcache/emb \
        --store-cache /tmp/fitcache/stores --realtimeqa ../shared/benchmarks/realtimeqa_public
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import PrecomputedEmbedder, console, run_main
from benchmarks.fit_ranker import QuestionCandidates, collect_realtimeqa, collect_squad
from benchmarks.squad_reqa import DEFAULT_DATA
from rag.ranker import load_ranker


def pairs_of(item: QuestionCandidates, depth: int) -> list[dict[str, object]]:
    """The item's best ``depth`` candidates under the shipped ranker, as labelled text pairs."""
    store = item.retriever.store
    scores = load_ranker().probabilities(item.features)
    order = np.argsort(-scores, kind="stable")[:depth]
    out: list[dict[str, object]] = []
    for rank, i in enumerate(order):
        row = item.signals.rows[int(i)]
        sentence = store.sentences[row]
        title = store.documents[sentence.doc_id].title
        out.append(
            {
                "group": f"{item.source}:{item.group}",
                "question": item.question,
                "passage": f"{title}: {sentence.text}" if title else sentence.text,
                "label": int(item.labels[int(i)]),
                "answerable": item.answerable,
                "rank": rank,
                "ranker": round(float(scores[int(i)]), 6),
            }
        )
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rerank_pairs", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the JSON Lines file to write")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sample", type=int, default=0, help="SQuAD questions sampled (0 = all fitted ones)")
    parser.add_argument("--realtimeqa", type=Path, default=None)
    parser.add_argument("--weeks", type=int, default=3)
    parser.add_argument("--no-squad", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--twin-depth", type=int, default=4)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--store-cache", type=Path, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    embedder = PrecomputedEmbedder(cache_dir=args.cache_dir)
    embedder.base.warm_up()
    items: list[QuestionCandidates] = []
    if not args.no_squad:
        items.extend(collect_squad(args, embedder))
    if args.realtimeqa is not None:
        items.extend(collect_realtimeqa(args, embedder))
    written = 0
    with args.out.open("w", encoding="utf-8") as handle:
        for item in items:
            for pair in pairs_of(item, args.depth if item.answerable else args.twin_depth):
                handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
                written += 1
    console.print(f"{written} pairs from {len(items)} questions written to {args.out}")
    return 0


if __name__ == "__main__":
    run_main(main)
