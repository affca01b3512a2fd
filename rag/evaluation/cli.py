"""``rag eval``: score the pipeline against a gold set, print and write reports, gate on floors."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from rag.cli_support import CliError, path_argument, progress_bar, settings_from_args, show_progress

__all__ = ["PLOT_SUFFIXES", "add_eval_parser", "parse_bound"]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def parse_bound(text: str) -> tuple[str, float]:
    """``METRIC=VALUE`` → ``(metric, value)``."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected METRIC=VALUE, got {text!r}")
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}: {raw!r} is not a number") from None
    if not math.isfinite(value):  # no metric is ever below nan, so the gate would always pass
        raise argparse.ArgumentTypeError(f"{name}: {raw!r} is not a finite number")
    return name.strip(), value


def add_eval_parser(sub: Any) -> None:
    parser = sub.add_parser("eval", help="score answers against gold question/answer pairs")
    parser.add_argument("--gold", type=path_argument, required=True, help="gold JSONL file, or an FAQ document")
    parser.add_argument("--index-dir", "--index", dest="index_dir", type=path_argument, help="index to evaluate")
    parser.add_argument("--json", dest="json_out", type=path_argument, help="write the JSON report here")
    parser.add_argument("--markdown", type=path_argument, help="write the Markdown report here")
    parser.add_argument("--plot", type=path_argument, help="write the chart here (.png, .svg or .pdf)")
    parser.add_argument("--fusion", choices=["rrf", "weighted", "dense", "bm25"], help="override RAG_FUSION")
    parser.add_argument("--threshold", type=float, help="override the abstention threshold")
    parser.add_argument(
        "--fail-under",
        type=parse_bound,
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if METRIC is below VALUE (repeatable)",
    )
    parser.add_argument(
        "--fail-over",
        type=parse_bound,
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if METRIC is above VALUE, for lower-is-better metrics (repeatable)",
    )
    parser.add_argument("--quiet-questions", action="store_true", help="do not print the per-question table")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from rich.console import Console

    from rag.evaluation.evaluate import evaluate
    from rag.evaluation.gold import GoldError, load_gold
    from rag.evaluation.report import print_report, write_json, write_markdown, write_plot
    from rag.pipeline import build_pipeline

    settings = settings_from_args(args)
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise CliError(f"--threshold must be between 0 and 1, got {args.threshold}")
    _check_metric_names([name for name, _ in [*args.fail_under, *args.fail_over]])
    if args.plot is not None and args.plot.suffix.lower() not in PLOT_SUFFIXES:
        raise CliError(f"--plot {args.plot}: the chart is written as PNG, SVG or PDF; name a .png, .svg or .pdf file")
    reports = {"--json": args.json_out, "--markdown": args.markdown, "--plot": args.plot}
    _check_report_paths(reports, protected=[args.gold, settings.seeds_dir, settings.index_dir])
    try:
        items = load_gold(args.gold)
    except GoldError as exc:
        raise CliError(str(exc)) from None
    pipeline = build_pipeline(settings)
    known_docs = set(pipeline.store.documents)
    unknown = sorted({d for item in items for d in item.doc_ids} - known_docs)
    if unknown:
        raise CliError(f"{args.gold}: doc_ids not in the index: {', '.join(unknown)}")
    retrieval = {"fusion": args.fusion} if args.fusion else {}
    with progress_bar("Evaluating", show_progress(args)) as update:
        report = evaluate(pipeline, items, retrieval=retrieval, threshold=args.threshold, progress=update)
    report.config["gold"] = str(args.gold)
    print_report(report, Console(), per_question=not args.quiet_questions)
    try:
        if args.json_out:
            write_json(report, args.json_out)
        if args.markdown:
            write_markdown(report, args.markdown, title=f"Evaluation: {args.gold.name}")
        if args.plot:
            write_plot(report, args.plot)
    except OSError as exc:
        raise CliError(f"the report could not be written: {exc.filename}: {exc.strerror}") from None
    failures = []
    for name, floor in args.fail_under:
        failures += _check(report.metrics, name, floor, below=True)
    for name, ceiling in args.fail_over:
        failures += _check(report.metrics, name, ceiling, below=False)
    for failure in failures:
        print(f"rag eval: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _check_metric_names(names: list[str]) -> None:
    """Refuse, before the run, a ``--fail-under``/``--fail-over`` metric no report has."""
    from rag.evaluation.evaluate import METRIC_NAMES

    unknown = [name for name in names if name not in METRIC_NAMES]
    if unknown:
        raise CliError(f"unknown metric '{unknown[0]}'; known: {', '.join(METRIC_NAMES)}")


def _check_report_paths(reports: dict[str, Path | None], *, protected: list[Path]) -> None:
    """Refuse, before the run, a report path that cannot be written or would overwrite an input."""
    kept = [p.resolve() for p in protected]
    seen: dict[Path, str] = {}
    for option, path in reports.items():
        if path is None:
            continue
        target = path.resolve()
        if target in seen:
            raise CliError(f"{option} and {seen[target]} name the same file, {path}")
        seen[target] = option
        if target.is_dir():
            raise CliError(f"{option} {path}: is a directory; name a file")
        for held in kept:
            if target == held or held in target.parents:
                raise CliError(f"{option} {path}: would overwrite an input ({held}); name another file")
        folder = next(p for p in target.parents if p.exists())
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise CliError(f"{option} {path}: cannot be written ({folder} is not a writable directory)")


def _check(metrics: dict[str, float | None], name: str, bound: float, *, below: bool) -> list[str]:
    value = metrics[name]  # a known name: `_check_metric_names` refused the others before the run
    if value is None:
        return [f"{name} is not available for this gold set"]
    if below and value < bound:
        return [f"{name} = {value} is below the floor {bound}"]
    if not below and value > bound:
        return [f"{name} = {value} is above the ceiling {bound}"]
    return []
