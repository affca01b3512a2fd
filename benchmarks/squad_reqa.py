"""ReQA-style sentence retrieval on SQuAD v1.1 dev: every sentence of all 2,067 paragraphs is a
candidate answer, and each question is asked against the whole pool.

Run ``python -m benchmarks.squad_reqa --help`` for the options. A sentence *answers* a question
(span definition) when its character span contains the character span of one of the question's
gold answers; the lenient text definition accepts any sentence that contains a gold answer's text,
case-insensitively, wherever it comes from.
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import shlex
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    DataMissingError,
    PrecomputedEmbedder,
    ResultTable,
    Stopwatch,
    console,
    default_data_path,
    machine_description,
    mrr_at_k,
    require_file,
    run_main,
    track,
    update_docs_section,
    utc_date,
)
from rag.answer import AnswerComposer
from rag.answer_types import FACTOID, classify_question, question_words
from rag.chunking import ChunkingParams, passages_of, sentences_of
from rag.config import Settings
from rag.documents import Block, Document
from rag.entities import make_tagger
from rag.evaluation.metrics import normalize_answer, token_f1
from rag.lexical import LexicalIndex
from rag.ranker import load_ranker
from rag.reranker import RUNTIMES as RERANK_RUNTIMES
from rag.reranker import CrossEncoderReranker, Reranker, rerank_sentences
from rag.retrieval import FUSIONS, INDEX_FIELDS, HybridRetriever, RetrievalParams, ScoredSentence
from rag.store import IndexStore

DEFAULT_DATA = default_data_path("squad/dev-v1.1.json")
DOCS_HEADING = "SQuAD v1.1 dev — ReQA sentence retrieval"
CUTOFF = 10
SHIPPED_TOP_K = Settings.model_fields["top_k"].default  # passages handed to rank_sentences

# Published / reference points for the same set-up (2,000 sampled questions, whole sentence pool).
REFERENCES = {
    "BM25 (txtai, sentences)": 0.61,
    "txtai hybrid (MiniLM + BM25, sentences)": 0.66,
}

# Ablations reported in every run after the shipped pipeline, as ``--variant`` specs: each undoes
# part of what 0.2.0 changed, down to the 0.1.0 defaults (see docs/benchmarks.md).
ABLATION_SPECS = (
    "without the cross-encoder reranker (learned ranker only):reranker=off",
    "hand-set sentence weights (0.2.0 ranking):ranker=weighted,reranker=off",
    "0.1.0 defaults (top_k 8, sentence BM25 1.2/0.75, weights 0.5/0.2/0.3, no titles):"
    "top_k=8,s_k1=1.2,s_b=0.75,sentence_dense_weight=0.5,sentence_lexical_weight=0.2,sentence_passage_weight=0.3,"
    "title=-,reranker=off",
    "learned ranker without titles:title=-,reranker=off",
    "learned ranker without the title in embedded sentences:title=sp,reranker=off",
)


@dataclass(frozen=True)
class Question:
    """A SQuAD question with its gold answer spans in its document's coordinates."""

    qid: str
    text: str
    doc_id: str
    paragraph: int
    spans: tuple[tuple[int, int], ...]
    answers: tuple[str, ...]


@dataclass
class SquadCorpus:
    """One document per article, one block (and section) per paragraph, and the questions."""

    documents: list[Document]
    questions: list[Question]
    paragraph_starts: dict[str, list[int]] = field(default_factory=dict)
    """Per document, the offset where each paragraph starts ..."""
    paragraph_ids: dict[str, list[int]] = field(default_factory=dict)
    """... and the global index of that paragraph."""

    def paragraph_of(self, doc_id: str, offset: int) -> int:
        """Global index of the paragraph that holds ``offset`` of document ``doc_id``."""
        position = bisect.bisect_right(self.paragraph_starts[doc_id], offset) - 1
        return self.paragraph_ids[doc_id][position]


def squad_fitted_article(doc_id: str) -> bool:
    """Whether the shipped ranker was fitted on this SQuAD article: the even-numbered ones (ids start with
    the article's number). This benchmark scores questions of the odd-numbered ones unless told otherwise."""
    return int(doc_id.split("-", 1)[0]) % 2 == 0


def load_squad(path: Path) -> SquadCorpus:
    """Read SQuAD v1.1 JSON: each article becomes a Document whose paragraphs are separate blocks."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as exc:
        raise DataMissingError(f"{path} is not SQuAD v1.1 JSON ({exc})") from exc
    corpus = SquadCorpus([], [])
    paragraph_count = 0
    for number, article in enumerate(data):
        doc_id = f"{number:03d}-{article['title']}"
        pieces: list[str] = []
        blocks: list[Block] = []
        cursor = 0
        starts: list[int] = []
        ids: list[int] = []
        for section, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            if pieces:
                pieces.append("\n\n")
                cursor += 2
            blocks.append(Block(cursor, cursor + len(context), section))
            starts.append(cursor)
            ids.append(paragraph_count)
            for qa in paragraph["qas"]:
                spans = tuple(
                    (cursor + a["answer_start"], cursor + a["answer_start"] + len(a["text"])) for a in qa["answers"]
                )
                corpus.questions.append(
                    Question(
                        qa["id"],
                        qa["question"],
                        doc_id,
                        paragraph_count,
                        spans,
                        tuple(a["text"] for a in qa["answers"]),
                    )
                )
            pieces.append(context)
            cursor += len(context)
            paragraph_count += 1
        text = "".join(pieces)
        corpus.documents.append(Document(doc_id, text, title=article["title"].replace("_", " "), blocks=blocks))
        corpus.paragraph_starts[doc_id] = starts
        corpus.paragraph_ids[doc_id] = ids
    return corpus


# ---- scoring --------------------------------------------------------------------------------


@dataclass
class Scores:
    """Per-question outcomes of one ranker, summed; :meth:`row` gives the means."""

    n: int = 0
    hit1_span: float = 0.0
    hit1_text: float = 0.0
    hit3_span: float = 0.0
    hit3_text: float = 0.0
    mrr_span: float = 0.0
    mrr_text: float = 0.0
    paragraph: float = 0.0

    def add(self, span_hits: Sequence[bool], text_hits: Sequence[bool], same_paragraph: bool) -> None:
        self.n += 1
        self.hit1_span += bool(span_hits[:1] and span_hits[0])
        self.hit1_text += bool(text_hits[:1] and text_hits[0])
        self.hit3_span += any(span_hits[:3])
        self.hit3_text += any(text_hits[:3])
        self.mrr_span += mrr_at_k(span_hits, CUTOFF)
        self.mrr_text += mrr_at_k(text_hits, CUTOFF)
        self.paragraph += same_paragraph

    def mean(self, name: str) -> float:
        return float(getattr(self, name)) / self.n if self.n else 0.0

    def row(self) -> list[str]:
        names = ("hit1_span", "hit1_text", "hit3_span", "hit3_text", "mrr_span", "mrr_text", "paragraph")
        return [f"{self.mean(name):.3f}" for name in names]


COLUMNS = [
    "configuration",
    "hit@1 span",
    "hit@1 text",
    "hit@3 span",
    "hit@3 text",
    "MRR@10 span",
    "MRR@10 text",
    "paragraph acc",
    "seconds",
]


class Judge:
    """Decides which sentence rows answer a question."""

    def __init__(self, store: IndexStore, corpus: SquadCorpus) -> None:
        self.store = store
        self.corpus = corpus
        self.folded = [s.text.casefold() for s in store.sentences]
        self.paragraph = [corpus.paragraph_of(s.doc_id, s.start) for s in store.sentences]
        rows_by_doc: dict[str, list[int]] = {}
        for row, sentence in enumerate(store.sentences):
            rows_by_doc.setdefault(sentence.doc_id, []).append(row)
        self.rows_by_doc = rows_by_doc

    def span_rows(self, question: Question) -> set[int]:
        """Rows whose span contains a gold answer span."""
        return {
            row
            for row in self.rows_by_doc[question.doc_id]
            for start, end in question.spans
            if self.store.sentences[row].start <= start and end <= self.store.sentences[row].end
        }

    def score(self, question: Question, ranking: Sequence[int], span_rows: set[int], scores: Scores) -> None:
        top = list(ranking[:CUTOFF])
        answers = [a.casefold() for a in question.answers]
        span_hits = [row in span_rows for row in top]
        text_hits = [any(a in self.folded[row] for a in answers) for row in top]
        same = bool(top) and self.paragraph[top[0]] == question.paragraph
        scores.add(span_hits, text_hits, same)


def titled(title: str, text: str) -> str:
    """``text`` with its document's title in front, as variants B and C index it."""
    return f"{title}: {text}"


def _top(scores: np.ndarray, k: int) -> list[int]:
    k = min(k, scores.size)
    top = np.argpartition(-scores, k - 1)[:k]
    return sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))


Ranker = Callable[[int, Question, np.ndarray], list[int]]


_SHIPPED_RETRIEVAL = RetrievalParams()


@dataclass(frozen=True)
class PipelineVariant:
    """Passage retrieval then sentence ranking, as shipped or with some of its parts changed.

    ``overrides`` are per-call RetrievalParams fields; ``sentence_bm25`` / ``passage_bm25`` are (k1, b)
    of the BM25 indexes; ``title`` says where the document title is put in front of the text
    (``"{title}: {text}"``): ``d`` embedded sentences, ``s`` sentence BM25, ``p`` passage BM25.
    The defaults are the shipped pipeline.
    """

    label: str
    top_k: int = SHIPPED_TOP_K
    overrides: dict[str, Any] = field(default_factory=dict)
    sentence_bm25: tuple[float, float] = (_SHIPPED_RETRIEVAL.sentence_bm25_k1, _SHIPPED_RETRIEVAL.sentence_bm25_b)
    passage_bm25: tuple[float, float] = (1.2, 0.75)
    title: str = "dsp"
    use_ranker: bool = True
    """Rank sentences with the learned ranker (as shipped) or the hand-set weights of 0.2.0."""
    use_reranker: bool = True
    """Re-score the best sentences with the cross-encoder (as shipped) ..."""
    rerank_prior: float | None = None
    """... with this weight on the ranker's logit (None: the shipped weight) ..."""
    rerank_depth: int | None = None
    """... over this many best sentences (None: the shipped depth) ..."""
    rerank_skip: float | None = None
    """... unless the ranker leads by this logit margin (None: the shipped margin; 0: always re-score)."""


def _number(raw: str) -> int | float | str:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            continue
    return raw


def parse_variant(spec: str) -> PipelineVariant:
    """``label:key=value,...`` → a variant of the shipped pipeline. Keys: per-call RetrievalParams fields,
    ``top_k`` (passages), ``s_k1``/``s_b`` (sentence BM25), ``p_k1``/``p_b`` (passage BM25), ``title``
    (letters of ``dsp``, or ``-`` for none). Example: ``rrf, no titles:fusion=rrf,title=-``."""
    label, colon, body = spec.rpartition(":")
    if not colon:
        label, body = spec, spec
    pairs = (item.partition("=") for item in body.split(",") if item)
    values = {k.strip(): v.strip() if k.strip() == "title" else _number(v.strip()) for k, _, v in pairs}
    shipped = PipelineVariant(label)
    bm25 = {"s": list(shipped.sentence_bm25), "p": list(shipped.passage_bm25)}
    overrides: dict[str, Any] = {}
    top_k, title = shipped.top_k, shipped.title
    use_ranker = use_reranker = True
    rerank_prior: float | None = None
    rerank_depth: int | None = None
    rerank_skip: float | None = None
    for key, value in values.items():
        if key == "rerank_skip":
            rerank_skip = float(value)
        elif key == "rerank_prior":
            rerank_prior = float(value)
        elif key == "rerank_depth":
            rerank_depth = int(value)
        elif key == "reranker":
            if value not in ("on", "off"):
                raise SystemExit(f"error: reranker takes 'on' or 'off', not {value!r}")
            use_reranker = value == "on"
        elif key == "ranker":
            if value not in ("learned", "weighted"):
                raise SystemExit(f"error: ranker takes 'learned' or 'weighted', not {value!r}")
            use_ranker = value == "learned"
        elif key == "top_k":
            top_k = int(value)
        elif key == "title":
            title = "" if value == "-" else str(value)
            if set(title) - set("dsp"):
                raise SystemExit(f"error: title takes letters of 'dsp' or '-', not {title!r}")
        elif key in ("s_k1", "s_b", "p_k1", "p_b"):
            bm25[key[0]][0 if key.endswith("k1") else 1] = float(value)
        elif key in RetrievalParams.__dataclass_fields__ and key not in INDEX_FIELDS:
            overrides[key] = value
        else:
            raise SystemExit(f"error: unknown variant key {key!r} in {spec!r}")
    RetrievalParams(**overrides)  # validate now, not after embedding
    return PipelineVariant(
        label,
        top_k,
        overrides,
        (bm25["s"][0], bm25["s"][1]),
        (bm25["p"][0], bm25["p"][1]),
        title,
        use_ranker,
        use_reranker,
        rerank_prior,
        rerank_depth,
        rerank_skip,
    )


class PipelineRunner:
    """The shipped path — HybridRetriever.search, then rank_sentences — with a variant's changes applied
    by swapping the retriever's BM25 indexes or sentence vectors (what building rag/ that way would do)."""

    def __init__(
        self,
        retriever: HybridRetriever,
        plain_vectors: np.ndarray,
        reranker: Reranker | None = None,
        rerank_depth: int = 8,
        prior_weight: float = 1.0,
        skip_margin: float = 0.0,
    ) -> None:
        self.retriever = retriever
        self.skip_margin = skip_margin
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self.prior_weight = prior_weight
        self.plain_vectors = plain_vectors
        self.shipped = (retriever._sentence_bm25, retriever._passage_bm25, retriever._sentence_vectors)
        self._bm25_cache: dict[tuple[str, float, float, bool], LexicalIndex] = {}

    def _bm25(self, kind: str, params: tuple[float, float], with_title: bool) -> LexicalIndex:
        key = (kind, params[0], params[1], with_title)
        if key not in self._bm25_cache:
            store = self.retriever.store
            rows = store.sentences if kind == "s" else store.passages
            texts = [titled(store.documents[r.doc_id].title, r.text) if with_title else r.text for r in rows]
            self._bm25_cache[key] = LexicalIndex(texts, k1=params[0], b=params[1])
        return self._bm25_cache[key]

    def ranker(self, variant: PipelineVariant) -> Ranker:
        retriever = self.retriever
        shipped = PipelineVariant("shipped")
        sentence_bm25, passage_bm25, vectors = self.shipped
        if (variant.sentence_bm25, "s" in variant.title) != (shipped.sentence_bm25, True):
            sentence_bm25 = self._bm25("s", variant.sentence_bm25, "s" in variant.title)
        if (variant.passage_bm25, "p" in variant.title) != (shipped.passage_bm25, True):
            passage_bm25 = self._bm25("p", variant.passage_bm25, "p" in variant.title)
        if "d" not in variant.title:
            vectors = self.plain_vectors

        def rank(_: int, question: Question, vector: np.ndarray) -> list[int]:
            retriever._sentence_bm25, retriever._passage_bm25 = sentence_bm25, passage_bm25
            retriever._sentence_vectors = vectors
            try:
                passages = retriever.search(question.text, variant.top_k, query_vector=vector, **variant.overrides)
                ranked = retriever.rank_sentences(
                    question.text, passages, query_vector=vector, use_ranker=variant.use_ranker, **variant.overrides
                )
                if variant.use_reranker and self.reranker is not None and ranked:
                    documents = retriever.store.documents
                    ranked = rerank_sentences(
                        question.text,
                        ranked,
                        self.reranker,
                        lambda d: documents[d].title,
                        depth=self.rerank_depth if variant.rerank_depth is None else variant.rerank_depth,
                        prior_weight=self.prior_weight if variant.rerank_prior is None else variant.rerank_prior,
                        skip_margin=self.skip_margin if variant.rerank_skip is None else variant.rerank_skip,
                    )
            finally:
                retriever._sentence_bm25, retriever._passage_bm25, retriever._sentence_vectors = self.shipped
            return [s.row for s in ranked[:CUTOFF]]

        return rank


# ---- main -----------------------------------------------------------------------------------


def short_answers(
    store: IndexStore,
    retriever: HybridRetriever,
    rank: Ranker,
    questions: Sequence[Question],
    vectors: np.ndarray,
    judge: Judge,
    span_rows: Sequence[set[int]],
) -> tuple[ResultTable, ResultTable]:
    """hit@1 of the first cited span as the composer cites it (the top sentence plus a completing
    neighbour) and short-answer exact match / F1 against SQuAD's gold answers (SQuAD normalisation;
    no short answer scores 0); and the short answer by the question's answer type."""
    composer = AnswerComposer(store, retriever._sentence_vectors)
    sentence_hit = span_hit = given = exact = f1_sum = untyped = untyped_hit = 0.0
    by_type: dict[str, list[float]] = {}  # answer type -> questions, given, exact, F1 sum
    for index, question in track(enumerate(questions), len(questions), "short answers"):
        answer_type, asked = classify_question(question.text), question_words(question.text)
        counts = by_type.setdefault(answer_type.value, [0.0, 0.0, 0.0, 0.0])
        counts[0] += 1
        ranking = rank(index, question, vectors[index])
        if not ranking:
            continue
        # As the composer does: a factoid question cites the best typed sentence of the top few first.
        candidates = [ScoredSentence(r, store.sentences[r], -float(i), 0.0, 0.0, 0.0) for i, r in enumerate(ranking)]
        row = composer.typed_first(question.text, candidates, answer_type, composer.params)[0].row
        first, last = composer.completed_span(row, answer_type, asked)
        sentence_hit += row in span_rows[index]
        span_hit += any(r in span_rows[index] for r in range(first, last + 1))
        short = composer.short_answer(first, last, row, answer_type, asked, question.text)
        if short is None and answer_type in FACTOID:
            # `POST /ask` abstains on these (RAG_REQUIRE_ANSWER_TYPE), unless the span names only a quoted source.
            untyped += 1
            untyped_hit += any(r in span_rows[index] for r in range(first, last + 1))
        if short is not None:
            matched = any(normalize_answer(short.text) == normalize_answer(a) for a in question.answers)
            overlap = max(token_f1(short.text, a) for a in question.answers)
            given += 1
            exact += matched
            f1_sum += overlap
            counts[1] += 1
            counts[2] += matched
            counts[3] += overlap
    n = len(questions) or 1
    table = ResultTable(["measure", "value"])
    table.add("hit@1 span, first cited sentence (typed sentence first)", f"{sentence_hit / n:.3f}")
    table.add("hit@1 span, first cited span (sentence + completing neighbour)", f"{span_hit / n:.3f}")
    table.add("short answer given", f"{given / n:.3f}")
    table.add("short answer exact match (all questions)", f"{exact / n:.3f}")
    table.add("short answer F1 (all questions)", f"{f1_sum / n:.3f}")
    table.add("factoid question, no short answer: abstained on by the answer-type rule", f"{untyped / n:.3f}")
    table.add("... of which the cited span holds the answer", f"{untyped_hit / n:.3f}")
    types = ResultTable(["answer type", "questions", "short answer given", "exact match", "F1"])
    for name, (count, typed_given, typed_exact, typed_f1) in sorted(by_type.items(), key=lambda kv: -kv[1][0]):
        types.add(
            name, f"{count:.0f}", f"{typed_given / count:.3f}", f"{typed_exact / count:.3f}", f"{typed_f1 / count:.3f}"
        )
    return table, types


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.squad_reqa",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SQuAD v1.1 dev JSON (default: %(default)s)")
    parser.add_argument("--sample", type=int, default=2000, help="questions sampled with --seed; 0 = all (10,570)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--all-articles",
        action="store_true",
        help="also score questions of the articles the learned ranker was fitted on (contaminated)",
    )
    parser.add_argument(
        "--fusion",
        choices=FUSIONS,
        default=None,
        help="also run the pipeline with this passage fusion (other settings shipped)",
    )
    parser.add_argument(
        "--no-reranker", action="store_true", help="leave the cross-encoder reranker out of every variant"
    )
    parser.add_argument(
        "--reranker",
        type=Path,
        default=None,
        metavar="ADAPTER",
        help="score with this adapter (fitted by benchmarks/fit_reranker.py) instead of the shipped one",
    )
    parser.add_argument(
        "--rerank-runtime",
        choices=RERANK_RUNTIMES,
        default="torch",
        help="what runs the reranker (default torch; the onnx ones keep their graphs in --cache-dir, or a temporary "
        "directory)",
    )
    parser.add_argument("--dense-weight", type=float, default=None, help="also run with this dense_weight")
    parser.add_argument("--top-k", type=int, default=None, help="also run with this many passages per question")
    parser.add_argument(
        "--sentence-weights",
        default=None,
        metavar="DENSE,LEXICAL,PASSAGE",
        help="also run with these sentence_dense/lexical/passage weights",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL:KEY=VALUE,...",
        help="extra pipeline variant, e.g. 'rrf16:fusion=rrf,top_k=16,title=ds' (repeatable); "
        "keys: RetrievalParams fields, top_k, s_k1, s_b, p_k1, p_b, title",
    )
    parser.add_argument(
        "--no-ablations",
        action="store_true",
        help="skip the ablation rows (0.1.0 defaults, shipped without titles)",
    )
    parser.add_argument("--passage-sentences", type=int, default=None, help="ChunkingParams.passage_sentences")
    parser.add_argument("--passage-overlap", type=int, default=None, help="ChunkingParams.passage_overlap")
    parser.add_argument("--passage-max-chars", type=int, default=None, help="ChunkingParams.passage_max_chars")
    parser.add_argument(
        "--sentence-title-context", type=float, default=None, help="ChunkingParams.sentence_title_context"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="keep embeddings between runs here (e.g. /tmp/rag-bench-cache); off by default",
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="update this benchmark's section of docs/benchmarks.md"
    )
    return parser


def _chunking(args: argparse.Namespace) -> ChunkingParams:
    shipped = ChunkingParams()
    return ChunkingParams(
        passage_sentences=args.passage_sentences or shipped.passage_sentences,
        passage_overlap=shipped.passage_overlap if args.passage_overlap is None else args.passage_overlap,
        passage_max_chars=args.passage_max_chars or shipped.passage_max_chars,
        sentence_title_context=(
            shipped.sentence_title_context if args.sentence_title_context is None else args.sentence_title_context
        ),
    )


def _variants(args: argparse.Namespace) -> list[PipelineVariant]:
    """The shipped pipeline, the one the flags describe, the recommended ones and the --variant ones."""
    variants = [PipelineVariant(f"pipeline, shipped defaults (top_k {SHIPPED_TOP_K})")]
    overrides: dict[str, Any] = {}
    if args.fusion is not None:
        overrides["fusion"] = args.fusion
    if args.dense_weight is not None:
        overrides["dense_weight"] = args.dense_weight
    if args.sentence_weights is not None:
        try:
            dense_w, lexical_w, passage_w = (float(x) for x in args.sentence_weights.split(","))
        except ValueError:
            raise SystemExit("error: --sentence-weights takes three numbers, e.g. 0.5,0.2,0.3") from None
        overrides.update(
            sentence_dense_weight=dense_w, sentence_lexical_weight=lexical_w, sentence_passage_weight=passage_w
        )
    if overrides or args.top_k is not None:
        try:
            RetrievalParams(**overrides)
        except ValueError as exc:
            raise SystemExit(f"error: {exc}") from None
        top_k = args.top_k or SHIPPED_TOP_K
        label = "pipeline, " + ", ".join([f"{k}={v}" for k, v in overrides.items()] + [f"top_k={top_k}"])
        variants.append(PipelineVariant(label, top_k, overrides))
    if not args.no_ablations:
        variants.extend(parse_variant(spec) for spec in ABLATION_SPECS)
    variants.extend(parse_variant(spec) for spec in args.variant)
    return variants


def _command_line(argv: Sequence[str] | None) -> str:
    given = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python -m benchmarks.squad_reqa", *(shlex.quote(a) for a in given)])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = build_parser().parse_args(argv)
    data = require_file(args.data, "SQuAD v1.1 dev set (dev-v1.1.json)")
    clock = Stopwatch()
    chunking = _chunking(args)
    variants = _variants(args)

    corpus = load_squad(data)
    questions = corpus.questions
    if not args.all_articles:
        questions = [q for q in questions if not squad_fitted_article(q.doc_id)]
    if args.sample and args.sample < len(questions):
        questions = random.Random(args.seed).sample(questions, args.sample)
    console.print(
        f"SQuAD dev: {len(corpus.documents)} articles, "
        f"{sum(len(d.blocks) for d in corpus.documents)} paragraphs, "
        f"{len(questions)} of {len(corpus.questions)} questions (seed {args.seed}"
        + ("" if args.all_articles else "; only articles the ranker was not fitted on")
        + ")"
    )
    clock.lap("load")

    embedder = PrecomputedEmbedder(cache_dir=args.cache_dir)
    embedder.base.warm_up()
    clock.lap("model load")
    plain_texts: list[str] = []
    titled_texts: list[str] = []
    passage_texts: list[str] = []
    for document in corpus.documents:
        sentences = sentences_of(document)
        plain_texts.extend(s.text for s in sentences)
        titled_texts.extend(titled(document.title, s.text) for s in sentences)
        passage_texts.extend(p.text for p in passages_of(document, sentences, 0, chunking))
    plain_vectors = embedder.precompute(plain_texts, "sentences alone")
    if chunking.sentence_title_context > 0:
        embedder.precompute(titled_texts, "sentences with their title")
    embedder.precompute(passage_texts, "passages")
    query_vectors = embedder.precompute([q.text for q in questions], "questions")
    clock.lap("embedding")

    store, _ = IndexStore.build(corpus.documents, embedder, chunking, tagger=make_tagger("spacy"))
    retriever = HybridRetriever(store, embedder, ranker=load_ranker())
    judge = Judge(store, corpus)
    sentence_bm25 = LexicalIndex([s.text for s in store.sentences])
    dense_all = query_vectors @ plain_vectors.T
    console.print(
        f"index: {len(store.sentences)} sentences, {len(store.passages)} passages (chunking {chunking.to_dict()})"
    )
    clock.lap("index")

    def bm25_rank(_: int, question: Question, __: np.ndarray) -> list[int]:
        return _top(sentence_bm25.scores(question.text), CUTOFF)

    def dense_rank(index: int, _: Question, __: np.ndarray) -> list[int]:
        return _top(dense_all[index], CUTOFF)

    def hybrid_rank(index: int, question: Question, __: np.ndarray) -> list[int]:
        lexical = sentence_bm25.scores(question.text)
        top = float(lexical.max()) if lexical.size else 0.0
        return _top(0.5 * dense_all[index] + 0.5 * (lexical / top if top > 0 else lexical), CUTOFF)

    reranker = None
    if not args.no_reranker:
        onnx_dir = (args.cache_dir or Path(tempfile.mkdtemp(prefix="squad-reranker-"))) / "onnx"
        reranker = CrossEncoderReranker(args.reranker, runtime=args.rerank_runtime, cache_dir=onnx_dir)
    runner = PipelineRunner(
        retriever,
        plain_vectors,
        reranker,
        Settings.model_fields["rerank_depth"].default,
        Settings.model_fields["rerank_prior_weight"].default,
        Settings.model_fields["rerank_skip_margin"].default,
    )
    rankers: list[tuple[str, Ranker]] = [
        ("BM25 only (sentences)", bm25_rank),
        ("dense only (MiniLM, sentences)", dense_rank),
        ("sentence hybrid 0.5 cosine + 0.5 BM25/max", hybrid_rank),
        *((v.label, runner.ranker(v)) for v in variants),
    ]
    span_rows = [judge.span_rows(q) for q in questions]
    ceiling = sum(bool(rows) for rows in span_rows) / len(questions)
    table = ResultTable(COLUMNS)
    for label, ranker in rankers:
        scores = Scores()
        watch = Stopwatch()
        for index, question in track(enumerate(questions), len(questions), label.split(":")[0][:40]):
            judge.score(question, ranker(index, question, query_vectors[index]), span_rows[index], scores)
        table.add(label, *scores.row(), f"{watch.total:.1f}")
        clock.lap("ranking")

    table.print(f"SQuAD v1.1 dev ReQA, {len(questions)} questions, {len(store.sentences)} candidate sentences")
    answers, answer_types = short_answers(
        store, retriever, runner.ranker(variants[0]), questions, query_vectors, judge, span_rows
    )
    answers.print("Shipped pipeline: the cited span (with its completing neighbour) and the short answer")
    answer_types.print("Short answers by the question's answer type (exact match and F1 over the type's questions)")
    clock.lap("short answers")
    print(f"share of questions whose gold span lies inside one segmented sentence (span ceiling): {ceiling:.3f}")
    print(
        "reference hit@1 on the same set-up (not measured here): "
        + ", ".join(f"{k} {v:.2f}" for k, v in REFERENCES.items())
    )
    print(f"wall-clock: {clock.summary()}")
    if args.write_docs:
        body = _docs_body(args, argv, store, questions, len(corpus.questions), ceiling, table, clock, chunking)
        body += "\nThe shipped pipeline's first cited span and short answer on the same questions:\n\n"
        body += answers.markdown() + "\n"
        body += "\nBy the question's answer type (exact match and F1 over all the type's questions):\n\n"
        body += answer_types.markdown() + "\n"
        print(f"wrote section '{DOCS_HEADING}' of {update_docs_section(DOCS_HEADING, body)}")
    return 0


def _docs_body(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    store: IndexStore,
    questions: Sequence[Question],
    total_questions: int,
    ceiling: float,
    table: ResultTable,
    clock: Stopwatch,
    chunking: ChunkingParams,
) -> str:
    sampled = (
        f"{len(questions)} questions sampled with seed {args.seed}"
        if len(questions) < total_questions
        else f"all {len(questions)} questions"
    )
    references = "\n".join(f"| {label} | {value:.2f} |" for label, value in REFERENCES.items())
    return f"""\
Command: `{_command_line(argv)}`

- Date: {utc_date()}
- Machine: {machine_description()}
- Set-up: ReQA on SQuAD v1.1 dev — {len(store.sentences)} candidate sentences (all 2,067 paragraphs, cut by
  the project's segmenter through `rag.chunking.sentences_of`), {sampled}, each asked against
  the whole pool. One document per article, one block (and section) per paragraph, so passages never cross
  paragraphs: `IndexStore.build` gives {len(store.passages)} passages (chunking `{chunking.to_dict()}`).
  Embedder: the bundled all-MiniLM-L6-v2.
- Metrics: *span* — the sentence's character span contains a gold answer's span ({ceiling:.3f} of the questions
  have such a sentence); *text* — the sentence contains a gold answer's text, case-insensitively (any paragraph).
  hit@k: an answering sentence among the top k; MRR@10 of the first answering sentence (0 past rank 10);
  paragraph acc: the top sentence comes from the question's own paragraph.
- Wall-clock of the whole run, embedding included: {clock.summary()}

{table.markdown()}

Rows: *BM25 only* / *dense only* rank all sentences by `rag.lexical.LexicalIndex` (k1 1.2, b 0.75) / cosine of
the sentence alone; *pipeline* runs `HybridRetriever.search` (top_k passages) then `rank_sentences` exactly as
shipped. The ablation rows swap parts of the built retriever back (BM25 indexes, sentence vectors) and pass
per-call overrides, to show what each change of 0.2.0 contributed:

- **hand-set sentence weights**: shipped, but sentences ranked by the 0.2.0 weighted sum instead of the
  learned ranker (`rag/models/ranker.json`, fitted on other SQuAD questions: see "Learned sentence ranker").
- **0.1.0 defaults**: 8 passages per question; sentence BM25 k1 1.2, b 0.75; sentence weights dense 0.5,
  lexical 0.2, passage 0.3; no titles anywhere.
- **without titles**: shipped, but BM25 and embeddings see the sentence or passage alone.
- **without the title in embedded sentences**: shipped, but sentences are embedded alone
  (BM25 still sees `"{{document title}}: {{text}}"`).

Reference hit@1 on the same 2,000-question set-up, from other systems (not measured here):

| reference | hit@1 |
| --- | ---: |
{references}
"""


if __name__ == "__main__":
    run_main(main)
