"""What each answer-quality capability adds, on the development set and the FAQ, in one run.

Every row is the shipped pipeline over the same index of ``seeds/`` (real model, spaCy entities)
with capabilities switched on one after the other, from the 0.2.0 behaviour to the shipped one:

1. 0.2.0: hand-set sentence weights, confidence from cosine + BM25, no answer types, single sentences;
2. + answer types: a factoid question whose cited sentence holds no answer of the asked type abstains;
3. + completed spans: a sentence is cited with the neighbour that completes it;
4. + partial answers: a covered subject below the answer threshold gets a partial answer;
5. + typed sentence first: for a factoid question, the best of the top sentences holding an answer of
   the asked-for type is cited first;
6. + learned sentence ranker (``rag/models/ranker.json``);
7. + cross-encoder reranker (``rag/models/reranker.safetensors``) over the best sentences, the
   confidence still the cosine + BM25 blend;
8. + the reranked best score in the confidence (a noisy-or with the blend);
9. + "How many X?" abstained when the articles mention X but never count it: the shipped configuration;
10. the shipped configuration with the reranker skipped when the learned ranker's best sentence leads
   the second by at least 3 logit, an option that is off by default;
11. the learned ranker with the learned answerability model (``rag/models/answerability.json``) as its
    confidence instead of the reranker, an option that is off by default.

    python -m benchmarks.answer_ablation [--write-docs]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPO_ROOT,
    ResultTable,
    console,
    machine_description,
    run_main,
    update_docs_section,
    utc_date,
)
from rag.answer import ComposerParams
from rag.config import Settings
from rag.evaluation.evaluate import EvaluationReport, evaluate
from rag.evaluation.gold import load_gold
from rag.pipeline import QAPipeline, build_pipeline, make_answerability, make_ranker

OLD_THRESHOLD = 0.33
"""The abstention threshold of 0.2.0."""
DOCS_HEADING = "Answer quality, capability by capability (development set and FAQ)"
SKIP_MARGIN_OPTION = 3.0
"""``RAG_RERANK_SKIP_MARGIN`` measured as an option (SQuAD chose it: no loss there at 3, a loss below)."""
DEV_GOLD = REPO_ROOT / "tests" / "data" / "dev_gold.jsonl"
SEEDS = REPO_ROOT / "seeds"


@dataclass(frozen=True)
class Variant:
    label: str
    learned_ranker: bool = False
    answerability: bool = False
    reranker: bool = False
    rerank_skip_margin: float | None = None
    """None: the configured margin; 0: the reranker runs on every question."""
    composer: dict[str, Any] = field(default_factory=dict)


def variants(shipped: ComposerParams, settings_depth: int) -> list[Variant]:
    """Capabilities switched on one after the other, then the shipped configuration, then the option
    the shipped configuration leaves off (the learned answerability model)."""
    old = {
        "require_answer_type": False,
        "complete_span": False,
        "type_window": 1,
        "partial_threshold": OLD_THRESHOLD,
        "abstain_threshold": OLD_THRESHOLD,
        "abstain_uncounted": False,
    }
    typed = {**old, "require_answer_type": True}
    completed = {**typed, "complete_span": True}
    partial = {
        **completed,
        "partial_threshold": shipped.partial_threshold,
        "abstain_threshold": shipped.abstain_threshold,
    }
    preferred = {**partial, "type_window": shipped.type_window}
    rerank_confidence = {**preferred, "confidence_rerank_weight": shipped.confidence_rerank_weight}
    shipped_composer = {**rerank_confidence, "abstain_uncounted": shipped.abstain_uncounted}
    return [
        Variant("0.2.0 (hand-set weights, cosine+BM25 confidence, one sentence)", composer=old),
        Variant("+ answer types: an untyped factoid abstains", composer=typed),
        Variant("+ completed spans", composer=completed),
        Variant(
            f"+ partial answers to broad questions (>= {shipped.partial_threshold}; answer >= "
            f"{shipped.abstain_threshold})",
            composer=partial,
        ),
        Variant(f"+ typed sentence first (best of top {shipped.type_window})", composer=preferred),
        Variant("+ learned sentence ranker", learned_ranker=True, composer=preferred),
        Variant(
            f"+ cross-encoder reranker (top {settings_depth}), confidence from the blend",
            learned_ranker=True,
            reranker=True,
            composer={**preferred, "confidence_rerank_weight": 0.0},
        ),
        Variant(
            "+ the reranked score in the confidence (noisy-or with the blend)",
            learned_ranker=True,
            reranker=True,
            composer=rerank_confidence,
        ),
        Variant(
            "+ a count the articles never give is abstained = shipped",
            learned_ranker=True,
            reranker=True,
            composer=shipped_composer,
        ),
        Variant(
            f"the reranker skipped when the ranker leads by >= {SKIP_MARGIN_OPTION:g} logit (option, off)",
            learned_ranker=True,
            reranker=True,
            rerank_skip_margin=SKIP_MARGIN_OPTION,
            composer=shipped_composer,
        ),
        Variant("learned ranker + learned answerability (option, off)", learned_ranker=True, answerability=True),
    ]


def run_variant(base: QAPipeline, settings: Settings, variant: Variant) -> tuple[EvaluationReport, EvaluationReport]:
    shipped_ranker = make_ranker(settings)
    shipped_answerability = make_answerability(settings.model_copy(update={"answerability": "learned"}))
    composer = replace(base.composer.params, **variant.composer)
    skip_margin = base.rerank_skip_margin if variant.rerank_skip_margin is None else variant.rerank_skip_margin
    pipeline = QAPipeline(
        base.store,
        base.embedder,
        retrieval=base.retriever.params,
        composer=composer,
        top_k=base.top_k,
        faq=base.faq,
        ranker=shipped_ranker if variant.learned_ranker else None,
        tagger=base.tagger,
        answerability=shipped_answerability if variant.answerability else None,
        reranker=base.reranker if variant.reranker else None,
        rerank_depth=base.rerank_depth,
        rerank_prior_weight=base.rerank_prior_weight,
        rerank_skip_margin=skip_margin,
    )
    if variant.answerability and shipped_answerability is not None:
        meta = shipped_answerability.model.meta
        pipeline.composer.params = replace(
            composer, abstain_threshold=meta["answer_threshold"], partial_threshold=meta["partial_threshold"]
        )
    dev = evaluate(pipeline, load_gold(DEV_GOLD))
    faq = evaluate(pipeline, load_gold(next(SEEDS.glob(f"{base.faq[0].doc_id}*"))))
    return dev, faq


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.answer_ablation", description=__doc__)
    parser.add_argument("--write-docs", action="store_true", help="update this section of docs/benchmarks.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(seeds_dir=SEEDS, index_dir=Path(tmp) / "index", _env_file=None)  # type: ignore[call-arg]
        base = build_pipeline(settings)
        table = ResultTable(
            [
                "configuration",
                "first sentence",
                "whole answer",
                "short EM",
                "unanswerable abstained",
                "answerable abstained",
                "FAQ answered",
                "FAQ partial",
                "ask p50 ms",
            ]
        )
        for variant in variants(base.composer.params, base.rerank_depth):
            console.print(f"[dim]{variant.label}[/dim]")
            dev, faq = run_variant(base, settings, variant)
            m = dev.metrics
            answered = sum(not r.abstained for r in faq.questions)
            partial = sum(r.support == "partial" for r in faq.questions)
            table.add(
                variant.label,
                f"{m['answer.first_contains_gold']:.3f}",
                f"{m['answer.any_contains_gold']:.3f}",
                f"{m['short_answer.em']:.3f}" if m["short_answer.em"] is not None else "-",
                f"{m['abstention.unanswerable_abstained']:.3f}",
                f"{m['abstention.answerable_wrongly_abstained']:.3f}",
                f"{answered} of {len(faq.questions)}",
                str(partial),
                f"{m['latency.p50_ms']:.1f}",
            )
    table.print("Development set (64 answerable, 17 unanswerable) and FAQ (8 questions)")
    if args.write_docs:
        command = " ".join(["python -m benchmarks.answer_ablation", *(shlex.quote(a) for a in (argv or sys.argv[1:]))])
        body = f"""\
Command: `{command}`

- Date: {utc_date()}
- Machine: {machine_description()}
- Index: `seeds/` with the bundled all-MiniLM-L6-v2 and spaCy entities; each row switches one more
  capability on (see the script's docstring). "first sentence" and "whole answer": share of the
  answerable questions whose first cited span / whole served answer contains a gold answer string
  (an abstention counts as a miss); "short EM": exact match of the short answer on factoid questions;
  "ask p50 ms": median time of `QAPipeline.ask` over the development questions (encoder: the default).

{table.markdown()}
"""
        print(f"wrote section '{DOCS_HEADING}' of {update_docs_section(DOCS_HEADING, body)}")
    return 0


if __name__ == "__main__":
    run_main(main)
