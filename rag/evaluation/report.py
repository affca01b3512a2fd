"""Render an evaluation report: terminal tables, Markdown, JSON and a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rag.evaluation.evaluate import EvaluationReport, best_threshold

__all__ = ["SWEEP_PRINT_STEP", "print_report", "write_json", "write_markdown", "write_plot"]

SWEEP_PRINT_STEP = 0.05


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:g}"


def _best(report: EvaluationReport) -> str:
    if not report.metrics.get("questions.unanswerable"):
        return "no unanswerable questions here: choose the threshold on a set that has both"
    return f"best balanced accuracy at {best_threshold(report.sweep)['threshold']}"


def _sweep_rows(report: EvaluationReport) -> list[dict[str, float]]:
    every = round(SWEEP_PRINT_STEP / 0.01)
    rows = report.sweep[::every]
    best = best_threshold(report.sweep)
    if best not in rows:
        rows = sorted([*rows, best], key=lambda r: r["threshold"])
    return rows


def print_report(report: EvaluationReport, console: Console, *, per_question: bool = True) -> None:
    """Metrics, the threshold sweep and (optionally) one row per question."""
    metrics = Table(title="Metrics", show_lines=False)
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for name, value in report.metrics.items():
        metrics.add_row(name, _fmt(value))
    console.print(metrics)
    sweep = Table(
        title=f"Abstention threshold sweep (configured {report.config['abstain_threshold']}, {_best(report)})"
    )
    for column in (
        "threshold",
        "unanswerable abstained",
        "answerable wrongly abstained",
        "balanced accuracy",
        "answerable correct and answered",
    ):
        sweep.add_column(column, justify="right", overflow="fold")
    for row in _sweep_rows(report):
        sweep.add_row(
            *(
                _fmt(row[c])
                for c in (
                    "threshold",
                    "unanswerable_abstained",
                    "answerable_wrongly_abstained",
                    "balanced_accuracy",
                    "answerable_correct_and_answered",
                )
            )
        )
    console.print(sweep)
    if per_question:
        rows = Table(title="Questions", show_lines=True)
        for column in ("id", "question", "answer", "conf", "gold?", "rank"):
            rows.add_column(column, overflow="fold")
        for q in report.questions:
            gold = "-" if q.any_contains_gold is None else ("yes" if q.any_contains_gold else "no")
            if not q.answerable:
                gold = "abstained ✓" if q.abstained else "answered ✗"
            rows.add_row(
                q.id,
                q.question,
                q.served_answer,
                f"{q.confidence:.2f}",
                gold,
                "-" if q.retrieval_rank is None else str(q.retrieval_rank),
            )
        console.print(rows)


def write_json(report: EvaluationReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_markdown(report: EvaluationReport, path: Path, *, title: str = "Evaluation report") -> None:
    config = report.config
    lines = [
        f"# {title}",
        "",
        f"- questions: {config['questions']}",
        f"- model: `{config['model']}`",
        f"- abstention threshold: {config['abstain_threshold']}",
        f"- retrieval: `{json.dumps(config['retrieval'])}`",
        f"- index: `{json.dumps(config['index'])}`",
        "",
        "## Metrics",
        "",
        "| metric | value |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {_fmt(value)} |" for name, value in report.metrics.items()]
    lines += [
        "",
        f"## Abstention threshold sweep ({_best(report)})",
        "",
        "| threshold | unanswerable abstained | answerable wrongly abstained | balanced accuracy "
        "| answerable correct and answered |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in _sweep_rows(report):
        lines.append(
            f"| {row['threshold']:.2f} | {row['unanswerable_abstained']:.3f} | "
            f"{row['answerable_wrongly_abstained']:.3f} | {row['balanced_accuracy']:.3f} | "
            f"{row['answerable_correct_and_answered']:.3f} |"
        )
    lines += [
        "",
        "## Calibration",
        "",
        "Per confidence bin: the share of questions whose composed answer is right (answerable and holding a",
        "gold answer; an unanswerable question counts as wrong).",
        "",
        "| confidence | questions | mean confidence | share right |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in report.calibration:
        lines.append(
            f"| {row['low']:.1f}–{row['high']:.1f} | {int(row['questions'])} | {row['mean_confidence']:.3f} | "
            f"{row['share_right']:.3f} |"
        )
    lines += [
        "",
        "## Questions",
        "",
        "| id | question | served answer | short answer | support | confidence | contains gold | rank |",
        "| --- | --- | --- | --- | --- | ---: | --- | ---: |",
    ]
    for q in report.questions:
        gold = "n/a" if q.any_contains_gold is None else ("yes" if q.any_contains_gold else "no")
        if not q.answerable:
            gold = "abstained (correct)" if q.abstained else "answered (wrong)"
        lines.append(
            f"| {q.id} | {_cell(q.question)} | {_cell(q.served_answer)} | {_cell(q.short_answer or '-')} | "
            f"{q.support} | {q.confidence:.3f} | {gold} | "
            f"{'-' if q.retrieval_rank is None else q.retrieval_rank} |"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_plot(report: EvaluationReport, path: Path) -> None:
    """Three panels: the main quality metrics as bars, the abstention threshold sweep, and calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = {k: v for k, v in report.metrics.items() if v is not None and not k.startswith(("latency.", "questions."))}
    figure, (bars, sweep, reliability) = plt.subplots(1, 3, figsize=(18, 5), gridspec_kw={"width_ratios": [1.3, 1, 1]})
    bars.barh(list(shown)[::-1], list(shown.values())[::-1], color="#3b6ea8")
    bars.set_xlim(0, 1)
    bars.set_title("Metrics")
    for y, value in enumerate(list(shown.values())[::-1]):
        bars.text(min(value + 0.01, 0.93), y, f"{value:.2f}", va="center", fontsize=8)
    thresholds = [r["threshold"] for r in report.sweep]
    for key, label in (
        ("unanswerable_abstained", "unanswerable abstained"),
        ("answerable_wrongly_abstained", "answerable wrongly abstained"),
        ("balanced_accuracy", "balanced accuracy"),
    ):
        sweep.plot(thresholds, [r[key] for r in report.sweep], label=label)
    sweep.axvline(report.config["abstain_threshold"], color="grey", linestyle="--", label="configured threshold")
    sweep.set_xlabel("abstention threshold")
    sweep.set_ylim(0, 1.02)
    sweep.set_title("Abstention sweep")
    sweep.legend(fontsize=8, loc="lower left")
    filled = [row for row in report.calibration if row["questions"]]
    reliability.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    reliability.plot(
        [row["mean_confidence"] for row in filled], [row["share_right"] for row in filled], marker="o", label="measured"
    )
    for row in filled:
        reliability.annotate(
            str(int(row["questions"])),
            (row["mean_confidence"], row["share_right"]),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    reliability.set_xlim(0, 1)
    reliability.set_ylim(0, 1.02)
    reliability.set_xlabel("confidence (bin mean; labels: questions per bin)")
    reliability.set_ylabel("share of answers right")
    reliability.set_title("Calibration")
    reliability.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
