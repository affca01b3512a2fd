"""Build the training pairs of the cross-encoder reranker from the ranker's fitting data.

Every fitted question (SQuAD even-numbered articles, RealtimeQA weeks outside the benchmark's) is
run through the shipped retrieval and learned ranker; its best ``--depth`` candidates become
``(question, title: sentence, label)`` pairs. Each question's twin with its answer taken out adds
its best ``--twin-depth`` candidates, all negative, so the reranker also learns what an absent
answer looks like. Groups (article or week) are kept so that training can hold out whole groups.

    python -m benchmarks.rerank_pairs --out /tmp/ce/pairs.jsonl --cache-dir /tmp/fitcache/emb \
        --store-cache /tmp/fitcache/stores --realtimeqa ../shared/benchmarks/realtimeqa_public

``--news-lexical`` adds every other RealtimeQA week from 2023 on (never the benchmark's weeks, never
2022) without embedding a week's articles: each answerable question's candidates are the week's best
``--depth`` sentences under BM25 (group ``news:<week>``), and its twin's are the best ``--twin-depth``
outside the articles that hold the answer. These pairs carry no ranker score; they are only fitted on.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import PrecomputedEmbedder, console, run_main, track
from benchmarks.fit_ranker import QuestionCandidates, collect_realtimeqa, collect_squad
from benchmarks.squad_reqa import DEFAULT_DATA
from rag.chunking import sentences_of
from rag.lexical import LexicalIndex
from rag.ranker import load_ranker
from rag.reranker import pair_text


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


def _pair(group: str, question: str, passage: str, label: bool, answerable: bool, rank: int) -> dict[str, object]:
    return {
        "group": group,
        "question": question,
        "passage": passage,
        "label": int(label),
        "answerable": answerable,
        "rank": rank,
        "ranker": None,
    }


def news_lexical_pairs(root: Path, skip: set[str], depth: int, twin_depth: int) -> list[dict[str, object]]:
    """BM25 candidates of every answerable question of the RealtimeQA weeks (2023 on) outside the
    benchmark's and ``skip``; each question's twin gets candidates outside the answering articles."""
    from benchmarks import realtimeqa
    from rag.ingest import _document_from_text

    available = realtimeqa.weeks_available(root, realtimeqa.YEARS)
    held_out = set(realtimeqa.DEFAULT_WEEKS) | set(realtimeqa.default_weeks(available))
    weeks = [w for w in available if w not in held_out and w not in skip]
    console.print(f"news weeks (BM25 candidates): {len(weeks)}; never: {sorted(held_out)} and 2022")
    out: list[dict[str, object]] = []
    for week_id in track(weeks, len(weeks), "news weeks"):
        week = realtimeqa.load_week(root, week_id)
        answerable = [q for q in week.questions if q.gold_doc_ids]
        if not answerable:
            continue
        sentences = []
        for article in week.articles:
            document = _document_from_text(article.doc_id, article.text, title=article.title or None)
            found = sentences_of(document)
            sentences.extend((article.doc_id, pair_text(document.title, s.text), s.text) for s in found)
        if not sentences:
            continue
        index = LexicalIndex([passage for _, passage, _ in sentences])
        group = f"news:{week_id}"
        for q in answerable:
            scores = index.scores(q.text)
            order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[int(i)] > 0]
            gold_docs = set(q.gold_doc_ids)
            for rank, i in enumerate(order[:depth]):
                doc_id, passage, text = sentences[i]
                label = doc_id in gold_docs and realtimeqa.contains_answer(text, q.gold)
                out.append(_pair(group, q.text, passage, label, True, rank))
            outside = [i for i in order if sentences[i][0] not in gold_docs][:twin_depth]
            out.extend(_pair(group, q.text, sentences[i][1], False, False, r) for r, i in enumerate(outside))
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rerank_pairs", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the JSON Lines file to write")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sample", type=int, default=0, help="SQuAD questions sampled (0 = all fitted ones)")
    parser.add_argument("--realtimeqa", type=Path, default=None)
    parser.add_argument("--weeks", type=int, default=3)
    parser.add_argument("--no-squad", action="store_true")
    parser.add_argument(
        "--news-lexical",
        action="store_true",
        help="also every other RealtimeQA week (2023 on), with BM25 candidates (needs --realtimeqa)",
    )
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
    if args.news_lexical and args.realtimeqa is None:
        raise SystemExit("error: --news-lexical needs --realtimeqa")
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
        if args.news_lexical:
            embedded_weeks = {item.group for item in items if item.source == "realtimeqa"}
            for pair in news_lexical_pairs(args.realtimeqa, embedded_weeks, args.depth, args.twin_depth):
                handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
                written += 1
    console.print(f"{written} pairs from {len(items)} questions written to {args.out}")
    return 0


if __name__ == "__main__":
    run_main(main)
