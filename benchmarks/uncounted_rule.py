"""What abstaining on a count the articles never give costs, and what it catches.

    python -m benchmarks.uncounted_rule [--squad PATH] [--realtimeqa PATH] [--write-docs]

The service abstains on "How many X ...?" when its articles mention X but never put a quantity before
it (``rag.retrieval.CountedVocabulary``, ``RAG_ABSTAIN_UNCOUNTED``). This applies the same rule, with no
model, to two public sets:

- **SQuAD v1.1 dev**: each "how many" question against its own article (answerable: the rule firing
  is a lost answer), and against the same article without the paragraph that answers it, for questions
  whose answer text then occurs nowhere in the article (unanswerable: the rule firing is a right
  abstention);
- **RealtimeQA** (``--realtimeqa``, weeks from 2023 on): each week's "how many" questions whose answer
  occurs in the week's pool of articles (answerable), and every other week's "how many" questions
  whose answer occurs nowhere in that pool (unanswerable).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import machine_description, markdown_table, run_main, update_docs_section, utc_date
from rag.agreement import counted_head
from rag.retrieval import CountedVocabulary

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SQUAD = REPO.parent / "shared" / "benchmarks" / "squad" / "dev-v1.1.json"
DOCS_HEADING = "Abstaining on a count the articles never give"


@dataclass
class Tally:
    """How often the rule fires on the answerable and on the unanswerable side of a set."""

    answerable: int = 0
    answerable_fired: int = 0
    unanswerable: int = 0
    unanswerable_fired: int = 0

    def row(self, name: str) -> list[str]:
        def share(fired: int, total: int) -> str:
            return f"{fired} of {total} ({fired / total:.3f})" if total else "–"

        return [
            name,
            share(self.answerable_fired, self.answerable),
            share(self.unanswerable_fired, self.unanswerable),
        ]


def squad_tally(path: Path) -> tuple[Tally, int]:
    """The rule over SQuAD's "how many" questions (with a counted noun), and how many questions SQuAD has."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    tally, questions = Tally(), 0
    for article in data:
        title = article["title"].replace("_", " ")
        paragraphs = [p["context"] for p in article["paragraphs"]]
        whole = CountedVocabulary.from_texts([title, *paragraphs])
        for i, paragraph in enumerate(article["paragraphs"]):
            rest_texts = [title, *paragraphs[:i], *paragraphs[i + 1 :]]
            rest_joined = " ".join(rest_texts)
            without: CountedVocabulary | None = None
            for qa in paragraph["qas"]:
                questions += 1
                question = qa["question"]
                if counted_head(question) is None:
                    continue
                tally.answerable += 1
                tally.answerable_fired += whole.uncounted(question) is not None
                if any(answer["text"] in rest_joined for answer in qa["answers"]):
                    continue
                without = without or CountedVocabulary.from_texts(rest_texts)
                tally.unanswerable += 1
                tally.unanswerable_fired += without.uncounted(question) is not None
    return tally, questions


def realtimeqa_tally(root: Path) -> tuple[Tally, int]:
    """The rule over RealtimeQA's "how many" questions, per week's pool; and how many weeks were read."""
    from benchmarks.realtimeqa import gold_documents, load_week, weeks_available

    weeks = [load_week(root, week) for week in weeks_available(root)]
    asked = [q for week in weeks for q in week.questions if counted_head(q.text) is not None]
    tally = Tally()
    for week in weeks:
        vocabulary = CountedVocabulary.from_texts(f"{a.title} {a.text}" for a in week.articles)
        for question in asked:
            fired = vocabulary.uncounted(question.text) is not None
            if question.week == week.week:
                if question.answerable:
                    tally.answerable += 1
                    tally.answerable_fired += fired
            elif not gold_documents(question.gold, week.articles):
                tally.unanswerable += 1
                tally.unanswerable_fired += fired
    return tally, len(weeks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 dev JSON (default: %(default)s)")
    parser.add_argument("--realtimeqa", type=Path, help="a checkout of realtimeqa/realtimeqa_public (optional)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not args.squad.is_file():
        parser.error(f"--squad: no such file: {args.squad}")
    if args.realtimeqa is not None and not (args.realtimeqa / "past").is_dir():
        parser.error(f"--realtimeqa: {args.realtimeqa} has no past/ directory (a realtimeqa_public checkout)")
    squad, squad_questions = squad_tally(args.squad)
    header = ["set", "answerable: abstained by the rule (lost)", "unanswerable: abstained by the rule (caught)"]
    rows = [squad.row(f"SQuAD v1.1 dev, 'how many' questions with a counted noun ({squad_questions:,} in all)")]
    weeks = 0
    if args.realtimeqa is not None:
        news, weeks = realtimeqa_tally(args.realtimeqa)
        rows.append(news.row(f"RealtimeQA, 'how many' questions with a counted noun ({weeks} weeks)"))
    print(markdown_table(header, rows))
    if args.write_docs:
        command = "python -m benchmarks.uncounted_rule" + (
            f" --realtimeqa {args.realtimeqa}" if args.realtimeqa is not None else ""
        )
        body = (
            f"Command: `{command} --write-docs`  \nDate: {utc_date()}  \nMachine: {machine_description()}\n\n"
            "The rule of `RAG_ABSTAIN_UNCOUNTED` applied without a model (see the script's docstring for how "
            "each side is built). A lost answer is an answerable question the rule abstains on; a caught one "
            "an unanswerable question it abstains on.\n\n"
            f"{markdown_table(header, rows)}"
        )
        update_docs_section(DOCS_HEADING, body)
    return 0


if __name__ == "__main__":
    run_main(main)
