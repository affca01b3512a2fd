"""RealtimeQA news development set: the service answers RealtimeQA's weekly news-quiz questions from the
articles a search engine returned for that week's questions, asked one week at a time through ``POST /ask``.

Run ``python -m benchmarks.realtimeqa --help`` for the options. Data: a checkout of the public repository
realtimeqa/realtimeqa_public (``past/YYYY/YYYYMMDD_qa.jsonl`` and ``YYYYMMDD_gcs.jsonl``). 2022 is held out
and never read; ``backnumber/`` is never used.

A week's *pool* is the union of its questions' search results, de-duplicated by url, then by identical text,
without empty texts; each article gets a content-hash id. A question is *answerable* when its gold choice
occurs in the text of at least one pool article (case-sensitive, at word boundaries); those articles are its
gold documents. *Unanswerable* questions come from the week ``PARTNER_OFFSET`` weeks away (cyclically) and
have a gold choice that occurs nowhere in this week's pool: they test abstention. Every week's articles are
each other's distractors; the index is rebuilt for every week.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import (
    DataMissingError,
    PrecomputedEmbedder,
    ResultTable,
    Stopwatch,
    console,
    default_data_path,
    machine_description,
    run_main,
    track,
    update_docs_section,
    utc_date,
)
from rag.documents import content_hash
from rag.evaluation.metrics import contains_gold

__all__ = [
    "DEFAULT_DATA",
    "DEFAULT_WEEKS",
    "PARTNER_OFFSET",
    "YEARS",
    "Article",
    "Question",
    "Week",
    "answer_pattern",
    "build_unanswerable",
    "contains_answer",
    "default_weeks",
    "load_week",
    "main",
    "partner_week",
    "read_pool",
    "read_questions",
    "weeks_available",
]

DEFAULT_DATA = default_data_path("realtimeqa_public")
DOCS_HEADING = "RealtimeQA news development set"
YEARS = ("2023", "2024", "2025", "2026")
HELD_OUT_YEARS = frozenset({"2022"})
PARTNER_OFFSET = 26
DEFAULT_WEEK_COUNT = 2
DEFAULT_WEEKS = ("20250926", "20260206", "20260306", "20260320")
"""Scored by default: four small weeks (about 0.5-0.6 M characters of articles each, so a run fits in
minutes) that ``benchmarks/fit_ranker.py`` never fits on."""
TXTAI_PIN = "txtai==9.14.0"
_WEEK = re.compile(r"^(\d{8})_qa\.jsonl$")


# ---- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Article:
    """One de-duplicated search result of a week's pool."""

    doc_id: str
    title: str
    text: str
    url: str

    def record(self) -> dict[str, str]:
        """The JSONL record the project ingests (``rag.ingest``)."""
        return {"id": self.doc_id, "title": self.title, "text": self.text, "url": self.url}


@dataclass(frozen=True)
class Question:
    """A multiple-choice quiz question reduced to its gold choice string."""

    question_id: str
    week: str
    """The week the question was published in."""
    text: str
    choices: tuple[str, ...]
    gold: str
    source: str
    gold_doc_ids: tuple[str, ...] = ()
    """Articles of the pool it is asked against whose text contains ``gold`` (empty: unanswerable there)."""

    @property
    def answerable(self) -> bool:
        return bool(self.gold_doc_ids)


@dataclass
class Week:
    """A week's article pool and its own questions, with gold documents found in that pool."""

    week: str
    articles: list[Article]
    questions: list[Question]
    duplicates_dropped: int = 0
    empty_dropped: int = 0

    @property
    def answerable(self) -> list[Question]:
        return [q for q in self.questions if q.answerable]


def _check_week(week: str) -> str:
    if not re.fullmatch(r"\d{8}", week):
        raise ValueError(f"week must be YYYYMMDD, got {week!r}")
    if week[:4] in HELD_OUT_YEARS:
        raise ValueError(f"week {week}: {week[:4]} is held out and never read")
    return week


def _week_file(root: Path, week: str, kind: str) -> Path:
    path = root / "past" / _check_week(week)[:4] / f"{week}_{kind}.jsonl"
    if not path.is_file():
        raise DataMissingError(f"RealtimeQA file not found at {path.resolve()}; pass the checkout with --data")
    return path


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                if isinstance(record, dict):
                    yield record


def weeks_available(root: Path, years: Iterable[str] = YEARS) -> list[str]:
    """Weeks (``YYYYMMDD``) of ``years`` with both a ``_qa`` and a ``_gcs`` file, oldest first (2022 refused)."""
    weeks: list[str] = []
    for year in years:
        if year in HELD_OUT_YEARS:
            raise ValueError(f"{year} is held out and never read")
        folder = root / "past" / year
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = _WEEK.match(path.name)
            if match and (folder / f"{match.group(1)}_gcs.jsonl").is_file():
                weeks.append(match.group(1))
    return sorted(weeks)


def read_questions(root: Path, week: str) -> list[Question]:
    """The week's questions with a usable gold choice (no gold documents yet)."""
    questions: list[Question] = []
    for record in _jsonl(_week_file(root, week, "qa")):
        choices = tuple(str(c) for c in record.get("choices") or ())
        answer = record.get("answer") or []
        text = str(record.get("question_sentence") or "").strip()
        try:
            gold = choices[int(answer[0])].strip()
        except (IndexError, ValueError, TypeError):
            continue
        if not gold or not text:
            continue
        questions.append(
            Question(
                question_id=str(record.get("question_id")),
                week=week,
                text=text,
                choices=choices,
                gold=gold,
                source=str(record.get("question_source") or ""),
            )
        )
    return questions


def read_pool(root: Path, week: str) -> tuple[list[Article], int, int]:
    """The week's de-duplicated article pool; returns ``(articles, duplicates dropped, empty texts dropped)``."""
    by_url: dict[str, Article] = {}
    seen_text: set[str] = set()
    duplicates = empty = 0
    for record in _jsonl(_week_file(root, week, "gcs")):
        for result in record.get("search_result") or ():
            if not isinstance(result, dict):
                continue
            text = result.get("text")
            if not isinstance(text, str) or not text.strip():
                empty += 1
                continue
            url = str(result.get("url") or "")
            if (url and url in by_url) or text in seen_text:
                duplicates += 1
                continue
            seen_text.add(text)
            title = result.get("title")
            article = Article(f"rtqa_{content_hash(text)}", title.strip() if isinstance(title, str) else "", text, url)
            by_url[url or article.doc_id] = article
    return list(by_url.values()), duplicates, empty


def answer_pattern(answer: str) -> re.Pattern[str]:
    """Case-sensitive match of ``answer`` not glued to a letter or digit on either side."""
    return re.compile(r"(?<!\w)" + re.escape(answer) + r"(?!\w)")


def contains_answer(text: str | None, answer: str) -> bool:
    """Whether ``text`` contains ``answer`` as :func:`answer_pattern` matches it."""
    return bool(text) and answer in (text or "") and answer_pattern(answer).search(text or "") is not None


def contains_normalised(text: str | None, answer: str) -> bool:
    """Whether ``text`` contains ``answer`` ignoring case (at word boundaries), or once both are normalised
    as ``rag eval`` and SQuAD compare them (punctuation and articles dropped). The first keeps "Cuba's"
    holding "Cuba", which normalisation alone turns into "cubas"."""
    if not text:
        return False
    return contains_answer(text.casefold(), answer.casefold()) or contains_gold(text, [answer])


def gold_documents(answer: str, articles: Sequence[Article]) -> tuple[str, ...]:
    """Ids of the ``articles`` whose text contains ``answer``."""
    pattern = answer_pattern(answer)
    return tuple(a.doc_id for a in articles if answer in a.text and pattern.search(a.text))


def load_week(root: Path, week: str) -> Week:
    """The week's pool and questions, each question with its gold documents in that pool."""
    articles, duplicates, empty = read_pool(root, week)
    questions = [
        Question(**{**asdict(q), "gold_doc_ids": gold_documents(q.gold, articles)}) for q in read_questions(root, week)
    ]
    return Week(week, articles, questions, duplicates, empty)


def partner_week(weeks: Sequence[str], week: str, offset: int = PARTNER_OFFSET) -> str:
    """The week ``offset`` places after ``week`` in ``weeks``, cyclically (never ``week`` itself if avoidable)."""
    ordered = sorted(weeks)
    if week not in ordered:
        raise ValueError(f"week {week} is not among the available weeks")
    if len(ordered) == 1:
        return week
    step = offset % len(ordered) or 1
    return ordered[(ordered.index(week) + step) % len(ordered)]


def build_unanswerable(week: Week, others: Sequence[Question], limit: int) -> list[Question]:
    """Up to ``limit`` of ``others`` (another week's questions) whose gold occurs nowhere in ``week``'s pool
    and whose wording is not one of ``week``'s own questions; sampled deterministically per week."""
    own = {q.text.casefold() for q in week.questions}
    candidates = [
        Question(**{**asdict(q), "gold_doc_ids": ()})
        for q in others
        if q.week != week.week and q.text.casefold() not in own and not gold_documents(q.gold, week.articles)
    ]
    if limit < len(candidates):
        candidates = random.Random(f"realtimeqa:{week.week}").sample(candidates, limit)
    return sorted(candidates, key=lambda q: q.question_id)


def default_weeks(weeks: Sequence[str], count: int = DEFAULT_WEEK_COUNT) -> list[str]:
    """``count`` weeks evenly spread over ``weeks`` (deterministic: the middle week of each equal slice)."""
    ordered = sorted(weeks)
    if count >= len(ordered):
        return ordered
    return [ordered[int((i + 0.5) * len(ordered) / count)] for i in range(count)]


# ---- scoring ----------------------------------------------------------------------------------


@dataclass
class Record:
    """What one question got from ``POST /ask`` (and from the txtai baseline)."""

    week: str
    question_id: str
    question_week: str
    question: str
    gold: str
    answerable: bool
    gold_doc_ids: list[str]
    answer_type: str
    answer: str
    abstained: bool
    confidence: float
    support: str | None
    first_sentence: str | None
    first_doc_id: str | None
    short_answer: str | None
    first_contains: bool
    whole_contains: bool
    short_exact: bool
    short_contains: bool
    doc_at_1: bool
    first_normalised: bool = False
    """``first_contains`` with both texts normalised as ``rag eval`` and SQuAD compare them (case, punctuation,
    articles): "winning five" holds the gold "Five"."""
    whole_normalised: bool = False
    txtai_sentence: str | None = None
    txtai_contains: bool | None = None
    txtai_normalised: bool | None = None
    txtai_doc_at_1: bool | None = None


def _normalise(text: str) -> str:
    from rag.evaluation.metrics import normalize_answer

    return normalize_answer(text)


def score_response(week: str, question: Question, body: dict[str, Any]) -> Record:
    """Judge one ``POST /ask`` response body against the question's gold choice."""
    from rag.answer_types import classify_question

    sentences = [s.get("text", "") for s in body.get("sentences") or []]
    citations = body.get("citations") or []
    short = body.get("short_answer")
    short_text = short.get("text") if isinstance(short, dict) else None
    first_doc = citations[0].get("doc_id") if citations else None
    abstained = bool(body.get("abstained"))
    return Record(
        week=week,
        question_id=question.question_id,
        question_week=question.week,
        question=question.text,
        gold=question.gold,
        answerable=question.answerable,
        gold_doc_ids=list(question.gold_doc_ids),
        answer_type=classify_question(question.text).value,
        answer=str(body.get("answer", "")),
        abstained=abstained,
        confidence=float(body.get("confidence", 0.0)),
        support=body.get("support"),
        first_sentence=sentences[0] if sentences else None,
        first_doc_id=first_doc,
        short_answer=short_text,
        first_contains=not abstained and bool(sentences) and contains_answer(sentences[0], question.gold),
        whole_contains=not abstained and any(contains_answer(s, question.gold) for s in sentences),
        short_exact=short_text is not None and _normalise(short_text) == _normalise(question.gold),
        short_contains=contains_answer(short_text, question.gold),
        doc_at_1=not abstained and first_doc in question.gold_doc_ids,
        first_normalised=not abstained and bool(sentences) and contains_normalised(sentences[0], question.gold),
        whole_normalised=not abstained and any(contains_normalised(s, question.gold) for s in sentences),
    )


@dataclass
class TxtaiBaseline:
    """txtai hybrid search (MiniLM + BM25) over the project's sentences of one week; top-1 sentence."""

    model_dir: Path
    sentences: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, text)

    def run(self, questions: Sequence[Question]) -> list[tuple[str | None, str | None]]:
        from txtai import Embeddings  # type: ignore[import-untyped]

        embeddings = Embeddings(path=str(self.model_dir), hybrid=True, content=True)
        embeddings.index((str(row), text, None) for row, (_, text) in enumerate(self.sentences))
        found: list[tuple[str | None, str | None]] = []
        for question in questions:
            hits = embeddings.search(question.text, 1)
            if not hits:
                found.append((None, None))
                continue
            doc_id, text = self.sentences[int(hits[0]["id"])]
            found.append((doc_id, text))
        embeddings.close()
        return found


def txtai_available() -> bool:
    try:
        import txtai  # noqa: F401
    except ImportError:
        return False
    return True


def _index_texts(corpus_dir: Path, settings: Any, questions: Sequence[Question]) -> list[str]:
    """Every text ``IndexStore.build`` and the questions will embed, for one batched pass."""
    from rag.chunking import passages_of, sentences_of
    from rag.ingest import load_documents

    chunking = settings.chunking()
    texts: list[str] = []
    documents, _ = load_documents([corpus_dir])
    for document in documents:
        sentences = sentences_of(document)
        share = chunking.sentence_title_context if document.title else 0.0
        if share < 1.0:
            texts.extend(s.text for s in sentences)
        if share > 0.0:
            texts.extend(f"{document.title}: {s.text}" for s in sentences)
        texts.extend(p.text for p in passages_of(document, sentences, 0, chunking))
    texts.extend(q.text for q in questions)
    return texts


def score_week(
    week: Week,
    questions: Sequence[Question],
    base: Any,
    *,
    cache_dir: Path | None,
    model_dir: Path | None,
    clock: Stopwatch,
    overrides: dict[str, str] | None = None,
) -> tuple[list[Record], dict[str, int]]:
    """Index ``week``'s pool, ask ``questions`` through ``POST /ask`` and (with ``model_dir``) run txtai."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from rag.config import Settings
    from rag.pipeline import build_pipeline

    records: list[Record] = []
    with tempfile.TemporaryDirectory(prefix=f"rtqa-{week.week}-") as tmp:
        corpus_dir = Path(tmp) / "corpus"
        corpus_dir.mkdir()
        with (corpus_dir / f"{week.week}.jsonl").open("w", encoding="utf-8") as handle:
            for article in week.articles:
                handle.write(json.dumps(article.record(), ensure_ascii=False) + "\n")
        settings = Settings.model_validate(
            {
                # With a cache directory the exported ONNX graphs (embedder, reranker) outlive the week's index.
                **({"onnx_dir": cache_dir / "onnx"} if cache_dir is not None else {}),
                **(overrides or {}),
                "seeds_dir": corpus_dir,
                "index_dir": Path(tmp) / "index" / "default",
                "model": "all-MiniLM-L6-v2",
            }
        )
        embedder = PrecomputedEmbedder(base, cache_dir=cache_dir)
        embedder.precompute(_index_texts(corpus_dir, settings, questions), f"week {week.week}")
        clock.lap("embedding")
        pipeline = build_pipeline(settings, embedder=embedder)
        store = pipeline.store
        sizes = {"documents": len(store.documents), "sentences": len(store.sentences), "passages": len(store.passages)}
        clock.lap("index")
        with TestClient(create_app(settings, pipeline=pipeline)) as client:
            for question in track(questions, len(questions), f"ask {week.week}"):
                response = client.post("/ask", json={"question": question.text})
                if response.status_code != 200:
                    raise RuntimeError(f"POST /ask answered {response.status_code} to {question.question_id}")
                records.append(score_response(week.week, question, response.json()))
        clock.lap("ask")
        if model_dir is not None:
            baseline = TxtaiBaseline(model_dir, [(s.doc_id, s.text) for s in store.sentences])
            console.print(f"txtai: indexing {len(baseline.sentences)} sentences of week {week.week}")
            for record, question, (doc_id, text) in zip(records, questions, baseline.run(questions), strict=True):
                record.txtai_sentence = text
                record.txtai_contains = contains_answer(text, question.gold)
                record.txtai_normalised = contains_normalised(text, question.gold)
                record.txtai_doc_at_1 = doc_id in question.gold_doc_ids
            clock.lap("txtai")
    return records, sizes


# ---- reports ----------------------------------------------------------------------------------


def _share(values: Iterable[bool]) -> str:
    values = list(values)
    return f"{sum(values) / len(values):.3f}" if values else "–"


def quality_table(records: Sequence[Record], group: Callable[[Record], str] | None = None) -> ResultTable:
    """First sentence / whole answer / short answer / doc@1 / abstained on answerable questions,
    abstained on unanswerable ones; one row overall, or one per ``group``."""
    table = ResultTable(
        [
            "answer type" if group else "set",
            "answerable",
            "first sentence",
            "whole answer",
            "first / whole, normalised",
            "short EM",
            "short contains",
            "doc@1",
            "abstained (answerable)",
            "unanswerable",
            "abstained (unanswerable)",
        ]
    )
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[group(record) if group else "all"].append(record)
    order = sorted(groups, key=lambda k: (-sum(r.answerable for r in groups[k]), k))
    for key in order:
        ans = [r for r in groups[key] if r.answerable]
        una = [r for r in groups[key] if not r.answerable]
        table.add(
            key,
            str(len(ans)),
            _share(r.first_contains for r in ans),
            _share(r.whole_contains for r in ans),
            f"{_share(r.first_normalised for r in ans)} / {_share(r.whole_normalised for r in ans)}",
            _share(r.short_exact for r in ans),
            _share(r.short_contains for r in ans),
            _share(r.doc_at_1 for r in ans),
            _share(r.abstained for r in ans),
            str(len(una)),
            _share(r.abstained for r in una),
        )
    return table


def calibration_table(records: Sequence[Record], width: float = 0.1) -> ResultTable:
    """Answered questions (answerable and unanswerable) by confidence bin: share whose first sentence
    holds the answer."""
    table = ResultTable(["confidence", "answered", "of them unanswerable", "first sentence holds the answer"])
    bins: dict[int, list[Record]] = defaultdict(list)
    for record in records:
        if not record.abstained:
            bins[min(int(record.confidence / width), int(1 / width) - 1)].append(record)
    for index in sorted(bins):
        rows = bins[index]
        table.add(
            f"{index * width:.1f}–{(index + 1) * width:.1f}",
            str(len(rows)),
            str(sum(not r.answerable for r in rows)),
            _share(r.first_contains for r in rows),
        )
    return table


def sweep_table(records: Sequence[Record], shipped: float) -> ResultTable:
    """Raising the abstention threshold from recorded confidences (answers can only be withdrawn, so
    thresholds below the shipped one cannot be recomputed)."""
    table = ResultTable(
        ["threshold", "answerable answered", "answerable, first sentence right", "unanswerable abstained"]
    )
    ans = [r for r in records if r.answerable]
    una = [r for r in records if not r.answerable]

    def answered(record: Record, threshold: float) -> bool:
        # At the shipped threshold the service's own decision stands (partial answers sit below it).
        return not record.abstained and (threshold <= shipped or record.confidence >= threshold)

    threshold = shipped
    while threshold <= 0.8 + 1e-9:
        table.add(
            f"{threshold:.2f}" + (" (shipped)" if threshold == shipped else ""),
            _share(answered(r, threshold) for r in ans),
            f"{sum(r.first_contains and answered(r, threshold) for r in ans) / len(ans):.3f}" if ans else "–",
            _share(not answered(r, threshold) for r in una),
        )
        threshold = round(threshold + 0.05, 2)
    return table


def txtai_table(records: Sequence[Record]) -> ResultTable:
    ans = [r for r in records if r.answerable and r.txtai_contains is not None]
    table = ResultTable(
        ["system (answerable questions, top-1 / first sentence)", "n", "contains gold", "normalised", "doc@1"]
    )
    table.add(
        "service POST /ask, first sentence (abstentions count as misses)",
        str(len(ans)),
        _share(r.first_contains for r in ans),
        _share(r.first_normalised for r in ans),
        _share(r.doc_at_1 for r in ans),
    )
    table.add(
        f"txtai {TXTAI_PIN.split('==')[1]} hybrid (MiniLM + BM25), top-1 sentence",
        str(len(ans)),
        _share(bool(r.txtai_contains) for r in ans),
        _share(bool(r.txtai_normalised) for r in ans),
        _share(bool(r.txtai_doc_at_1) for r in ans),
    )
    return table


# ---- main -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.realtimeqa",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="realtimeqa_public checkout (%(default)s)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--full", action="store_true", help="every week of 2023–2026 (slow: hours)")
    which.add_argument("--weeks", default=None, metavar="YYYYMMDD,...", help="these weeks only")
    parser.add_argument(
        "--week-count",
        type=int,
        default=None,
        help=f"this many weeks evenly spread over 2023–2026 instead of the default {', '.join(DEFAULT_WEEKS)}",
    )
    parser.add_argument("--limit-per-week", type=int, default=0, help="at most N answerable and N unanswerable")
    parser.add_argument("--no-txtai", action="store_true", help="skip the txtai baseline")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="write per-question records here")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep embeddings between runs (e.g. /tmp/...)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a rag.config.Settings field for the pipeline (repeatable), e.g. answerability=off",
    )
    parser.add_argument("--write-docs", action="store_true", help="update this benchmark's section of the docs")
    return parser


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``FIELD=VALUE`` pairs checked against the fields of :class:`rag.config.Settings`."""
    from rag.config import Settings

    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key.strip() not in Settings.model_fields:
            raise SystemExit(f"error: --set takes FIELD=VALUE with a rag.config.Settings field, got {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def _command_line(argv: Sequence[str] | None) -> str:
    given = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python -m benchmarks.realtimeqa", *(shlex.quote(a) for a in given)])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = build_parser().parse_args(argv)
    overrides = _overrides(args.set)
    root = args.data.expanduser().resolve()
    if not (root / "past").is_dir():
        raise DataMissingError(f"RealtimeQA checkout (with past/) not found at {root}; pass it with --data")
    clock = Stopwatch()
    available = weeks_available(root)
    if not available:
        raise DataMissingError(f"no weeks of {', '.join(YEARS)} under {root / 'past'}")
    if args.weeks:
        chosen = [_check_week(w.strip()) for w in args.weeks.split(",") if w.strip()]
        unknown = [w for w in chosen if w not in available]
        if unknown:
            raise SystemExit(f"error: no such week(s): {', '.join(unknown)}")
    elif args.full:
        chosen = available
    elif args.week_count is not None:
        chosen = default_weeks(available, args.week_count)
    else:
        chosen = [w for w in DEFAULT_WEEKS if w in available]

    # Counts of the development set over every available week (cheap: text matching only).
    answerable_total = questions_total = 0
    for name in track(available, len(available), "answerable questions"):
        week = load_week(root, name)
        questions_total += len(week.questions)
        answerable_total += len(week.answerable)
    console.print(
        f"RealtimeQA {YEARS[0]}–{YEARS[-1]}: {len(available)} weeks, {questions_total} questions, "
        f"{answerable_total} answerable (gold choice in the week's pool)"
    )
    clock.lap("load")

    use_txtai = not args.no_txtai
    model_dir: Path | None = None
    if use_txtai and not txtai_available():
        console.print(f"[yellow]txtai is not installed: skipping the baseline (pip install {TXTAI_PIN})[/yellow]")
        use_txtai = False
    from rag.answer import DEFAULT_ABSTAIN_THRESHOLD
    from rag.embedding import SentenceTransformerEmbedder, bundled_model_path

    if use_txtai:
        model_dir = bundled_model_path()
    base = SentenceTransformerEmbedder()
    base.warm_up()
    clock.lap("model load")

    records: list[Record] = []
    counts: list[dict[str, Any]] = []
    for name in chosen:
        week = load_week(root, name)
        answerable = week.answerable
        limit = args.limit_per_week or len(answerable)
        answerable = answerable[:limit]
        partner = partner_week(available, name)
        unanswerable = build_unanswerable(week, read_questions(root, partner), len(answerable))
        questions = [*answerable, *unanswerable]
        console.print(
            f"week {name}: {len(week.articles)} articles ({week.duplicates_dropped} duplicates, "
            f"{week.empty_dropped} empty dropped), {len(week.questions)} questions, {len(week.answerable)} answerable; "
            f"asking {len(answerable)} answerable + {len(unanswerable)} unanswerable from week {partner}"
        )
        week_records, sizes = score_week(
            week, questions, base, cache_dir=args.cache_dir, model_dir=model_dir, clock=clock, overrides=overrides
        )
        records.extend(week_records)
        counts.append(
            {
                "week": name,
                "articles": len(week.articles),
                "questions": len(week.questions),
                "answerable": len(week.answerable),
                "asked_answerable": len(answerable),
                "asked_unanswerable": len(unanswerable),
                "partner": partner,
                **sizes,
            }
        )

    weeks_table = ResultTable(
        ["week", "articles", "sentences", "questions", "answerable", "asked", "unanswerable (from)"]
    )
    for c in counts:
        weeks_table.add(
            c["week"],
            str(c["articles"]),
            str(c["sentences"]),
            str(c["questions"]),
            str(c["answerable"]),
            str(c["asked_answerable"]),
            f"{c['asked_unanswerable']} ({c['partner']})",
        )
    overall = quality_table(records)
    per_class = quality_table(records, lambda r: r.answer_type)
    calibration = calibration_table(records)
    sweep = sweep_table(records, DEFAULT_ABSTAIN_THRESHOLD)
    weeks_table.print("Weeks scored")
    overall.print("RealtimeQA through POST /ask: overall (shares of answerable / unanswerable questions)")
    per_class.print("By answer type (rag.answer_types.classify_question)")
    calibration.print("Calibration: answered questions by confidence")
    sweep.print("Abstention sweep (recomputed from recorded confidences)")
    support = Counter((r.answerable, r.support) for r in records)
    print(
        "support field: "
        + ", ".join(
            f"{'answerable' if a else 'unanswerable'}/{s}: {n}" for (a, s), n in sorted(support.items(), key=str)
        )
    )
    txtai = txtai_table(records) if use_txtai else None
    if txtai is not None:
        txtai.print("txtai baseline on the same sentences")
    print(f"wall-clock: {clock.summary()}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": _command_line(argv), "weeks": counts, "records": [asdict(r) for r in records]}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"wrote {len(records)} records to {args.json}")
    if args.write_docs:
        body = _docs_body(
            argv,
            available,
            questions_total,
            answerable_total,
            counts,
            weeks_table,
            overall,
            per_class,
            txtai,
            clock,
            overrides,
        )
        print(f"wrote section '{DOCS_HEADING}' of {update_docs_section(DOCS_HEADING, body)}")
    return 0


def _docs_body(
    argv: Sequence[str] | None,
    available: Sequence[str],
    questions_total: int,
    answerable_total: int,
    counts: Sequence[dict[str, Any]],
    weeks_table: ResultTable,
    overall: ResultTable,
    per_class: ResultTable,
    txtai: ResultTable | None,
    clock: Stopwatch,
    overrides: dict[str, str] | None = None,
) -> str:
    asked_a = sum(c["asked_answerable"] for c in counts)
    asked_u = sum(c["asked_unanswerable"] for c in counts)
    txtai_part = (
        f"\nBaseline: txtai ({TXTAI_PIN}, `Embeddings(path=<bundled all-MiniLM-L6-v2>, hybrid=True, content=True)`) "
        "over the same week's sentences as the project segments them, top-1 sentence:\n\n" + txtai.markdown() + "\n"
        if txtai is not None
        else "\n(txtai baseline not run.)\n"
    )
    settings_note = " except " + ", ".join(f"`{k}={v}`" for k, v in overrides.items()) if overrides else ""
    return f"""\
Command: `{_command_line(argv)}`

- Date: {utc_date()}
- Machine: {machine_description()}
- Data: realtimeqa/realtimeqa_public, `past/{YEARS[0]}`–`past/{YEARS[-1]}` ({len(available)} weeks, {questions_total}
  questions, {answerable_total} answerable: the gold choice occurs, case-sensitively at word boundaries, in an
  article of the week's pool). 2022 is held out. A week's pool is the union of its questions' search results,
  de-duplicated by url then text. Unanswerable questions: questions of the week {PARTNER_OFFSET} weeks away whose
  gold choice occurs nowhere in the pool, at most as many as the answerable ones.
- Scored: {len(counts)} weeks, {asked_a} answerable and {asked_u} unanswerable questions, each week indexed on its
  own (its articles are each other's distractors) with the shipped settings{settings_note} and asked through
  `POST /ask` (FastAPI TestClient).
- Metrics on answerable questions: *first sentence* / *whole answer* — the first / any answer sentence
  contains the gold choice (same match); *short EM* — the short answer equals the gold choice after SQuAD
  normalisation; *doc@1* — the first citation is a gold article; abstentions count as misses.
- Wall-clock: {clock.summary()}

{weeks_table.markdown()}

{overall.markdown()}

By answer type:

{per_class.markdown()}
{txtai_part}"""


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    run_main(main)
