"""Hybrid retrieval: dense (FAISS) and lexical (BM25) passage search fused, then sentences
scored within the retrieved passages."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import Stemmer

from rag.agreement import (
    counted_head,
    counted_terms,
    counted_words,
    counts_asked,
    date_granularity,
    has_granularity,
    ordinal_agreement,
    ordinals,
)
from rag.answer_types import AnswerType, classify_question, question_words
from rag.documents import Passage, Sentence
from rag.embedding import Embedder
from rag.lexical import SparseScores, content_terms, content_terms_many
from rag.lexical_cache import LexicalSpec, TableSpec, load_or_build
from rag.ranker import CandidateSignals, LinearRanker, sentence_features, typed_match
from rag.store import Store

__all__ = [
    "CountedVocabulary",
    "Fusion",
    "HybridRetriever",
    "PassageRetriever",
    "QuestionCoverage",
    "RetrievalParams",
    "ScoredPassage",
    "ScoredSentence",
]

Fusion = Literal["rrf", "weighted", "dense", "bm25"]
FUSIONS: tuple[str, ...] = ("rrf", "weighted", "dense", "bm25")
# Fields that shape the BM25 indexes, so they are fixed when the retriever is built.
INDEX_FIELDS = frozenset({"sentence_bm25_k1", "sentence_bm25_b", "lexical_title_context", "large_corpus"})


@dataclass(frozen=True)
class RetrievalParams:
    """Defaults set at construction; any field can be overridden per call."""

    fusion: Fusion = "weighted"
    depth: int = 50
    """Candidates taken from each retriever before fusion."""
    rrf_k: int = 60
    dense_weight: float = 0.5
    """Share of the dense score in weighted passage fusion (the rest is normalised BM25)."""
    sentence_dense_weight: float = 0.8
    sentence_lexical_weight: float = 0.3
    sentence_passage_weight: float = 0.2
    sentence_bm25_k1: float = 0.5
    """Term-frequency saturation of sentence BM25: low, since a sentence rarely repeats a term on purpose."""
    sentence_bm25_b: float = 0.3
    """Length normalisation of sentence BM25: mild, so long sentences that answer are not penalised."""
    lexical_title_context: bool = True
    """BM25 of sentences and passages also sees the document title (``"{title}: {text}"``)."""
    large_corpus: int = 100_000
    """Passages from which BM25 is scored from the query terms' postings only (its top ``depth`` selected
    among the texts holding a term, not by sorting the whole corpus) and passage vectors are read from the
    index by row rather than copied. The results are the same; below it the whole-corpus path is kept."""

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if self.depth < 1:
            raise ValueError("depth must be at least 1")
        if self.rrf_k < 1:
            raise ValueError("rrf_k must be at least 1")
        if self.large_corpus < 1:
            raise ValueError("large_corpus must be at least 1")
        for name in ("dense_weight", "sentence_dense_weight", "sentence_lexical_weight", "sentence_passage_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.sentence_bm25_k1 < 0:
            raise ValueError("sentence_bm25_k1 must not be negative")
        if not 0.0 <= self.sentence_bm25_b <= 1.0:
            raise ValueError("sentence_bm25_b must be between 0 and 1")


@dataclass(frozen=True)
class ScoredPassage:
    row: int
    passage: Passage
    score: float
    dense: float
    lexical: float
    """Raw BM25 of the passage text alone (no title)."""


@dataclass(frozen=True)
class ScoredSentence:
    row: int
    sentence: Sentence
    score: float
    dense: float
    lexical: float
    passage_score: float
    passage_lexical: float = 0.0
    """Best raw BM25 score among the retrieved passages that hold this sentence."""
    probability: float | None = None
    """The learned ranker's probability that this sentence holds the answer (None without a ranker)."""
    type_match: bool = False
    """The sentence holds an answer of the kind the question asks for (entity type or reason/list cue)."""
    coverage: float = 0.0
    """Share of the question's content terms in the sentence and its neighbours."""
    rerank: float | None = None
    """The cross-encoder's probability that this sentence answers the question (None when not reranked)."""


class PassageRetriever(Protocol):
    """Anything that ranks passages for a question."""

    def search(self, query: str, k: int, **overrides: Any) -> list[ScoredPassage]: ...


_WORD = re.compile(r"\w+")
_STEM = Stemmer.Stemmer("english").stemWord
_POSSESSIVE = re.compile(r"['’]s\b")
# A name is a number, or a run of capitalised words with "of"/"the" inside it ("the Parliamentary Assembly of
# the Council of Europe"), matched as a whole (see ``HybridRetriever.coverage``).
_NAME_LINKS = frozenset({"of", "the", "de", "von", "van"})
_LINK = "|".join(sorted(_NAME_LINKS))
_NAMED = re.compile(rf"(?<!^)(?<![.?!]\s)\b(?:\d[\d,.]*|[A-Z][\w'’-]*(?:\s+(?:(?:{_LINK})\s+)*[A-Z][\w'’-]*)*)")


@dataclass(frozen=True)
class QuestionCoverage:
    """How much of a question the corpus mentions at all (not whether it answers it)."""

    terms: float
    """IDF-weighted share of the question's content terms that occur in some indexed sentence."""
    named: float
    """Share of the question's names and numbers (capitalised words after the first, digits) found
    anywhere in the articles; 1.0 when the question has none."""
    missing: tuple[str, ...] = ()
    """The names and numbers not found."""
    candidate_named: float = 1.0
    """Share of the question's names and numbers found in the best-ranked candidate sentences (or their
    titles): the subject may be in the articles, but is it where the answer was looked for?"""
    uncounted: str | None = None
    """The noun a "how many" question counts when the articles mention it but never count it (no number
    or "several" right before it anywhere): they do not say how many."""


def _name_stem(word: str) -> str:
    """A word's stem as names are matched: case and accents folded ("Möngke" is "Mongke")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return _STEM("".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(frozen=True)
class CountedVocabulary:
    """The words of a corpus and the words it counts (a quantity within four words before them), stemmed
    as names are: enough to tell that the corpus mentions what a "how many" question counts, but never
    how many."""

    words: frozenset[str]
    counted: frozenset[str]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CountedVocabulary:
        words: set[str] = set()
        counted: set[str] = set()
        for text in texts:
            words.update(_WORD.findall(text))
            counted.update(counted_words(text))
        # Stemmed once per distinct word, not per occurrence.
        return cls(frozenset(map(_name_stem, words)), frozenset(map(_name_stem, counted)))

    def uncounted(self, question: str) -> str | None:
        """The noun ``question`` counts ("How many X ...?") when the corpus mentions it and never counts it."""
        head = counted_head(question)
        if head is None:
            return None
        stem = _name_stem(head)
        return head if stem in self.words and stem not in self.counted else None


def _unit_max(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


class HybridRetriever:
    """Fuses FAISS and BM25 passage rankings, and ranks the sentences of the best passages."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        params: RetrievalParams | None = None,
        ranker: LinearRanker | None = None,
        *,
        lexical_dir: Path | None = None,
    ) -> None:
        """``lexical_dir``: where the BM25 indexes are saved and loaded from (None: built each time)."""
        self.store = store
        self.embedder = embedder
        self.params = params or RetrievalParams()
        self.ranker = ranker
        specs = {
            "passages": LexicalSpec(self._lexical_texts(store.passages)),
            "sentences": LexicalSpec(
                self._lexical_texts(store.sentences), k1=self.params.sentence_bm25_k1, b=self.params.sentence_bm25_b
            ),
        }
        # The evidence a passage itself holds (ScoredPassage.lexical, read by the answer's confidence)
        # is scored without the title, which every passage of a document shares.
        if self.params.lexical_title_context:
            specs["passage_evidence"] = LexicalSpec([p.text for p in store.passages])
        sentence_texts = [s.text for s in store.sentences]
        doc_ids = list(store.documents)
        doc_titles = [store.documents[d].title for d in doc_ids]
        documents = [store.documents[d] for d in doc_ids]

        def vocabulary_table() -> list[list[str]]:
            vocabulary = CountedVocabulary.from_texts(f"{d.title} {d.text}" for d in documents)
            return [sorted(vocabulary.words), sorted(vocabulary.counted)]

        tables = {
            "sentence_terms": TableSpec(sentence_texts, lambda: content_terms_many(sentence_texts)),
            "title_terms": TableSpec(doc_titles, lambda: content_terms_many(doc_titles)),
            # The documents' own strings, not joined copies (a corpus's worth of memory at scale).
            "vocabulary": TableSpec([part for d in documents for part in (d.title, d.text)], vocabulary_table),
        }
        lexical = load_or_build(lexical_dir, specs, tables)
        self._passage_bm25 = lexical.indexes["passages"]
        self._passage_evidence_bm25 = lexical.indexes.get("passage_evidence", self._passage_bm25)
        self._sentence_bm25 = lexical.indexes["sentences"]
        self._large = len(store.passages) >= self.params.large_corpus
        self._sentence_vectors = store.sentence_vectors() if store.sentences else np.zeros((0, 1), np.float32)
        self._passage_vectors = (
            store.passage_vectors() if store.passages and not self._large else np.zeros((0, 1), np.float32)
        )
        self._sentence_terms = [frozenset(t) for t in lexical.tables["sentence_terms"]]
        titles = {d: frozenset(terms) for d, terms in zip(doc_ids, lexical.tables["title_terms"], strict=True)}
        self._term_df: Counter[str] = Counter(chain.from_iterable(self._sentence_terms))
        words, counted = lexical.tables["vocabulary"]
        self._vocabulary = CountedVocabulary(frozenset(words), frozenset(counted))
        self._words = self._vocabulary.words
        self._title_terms = [titles.get(s.doc_id, frozenset()) for s in store.sentences]
        self._neighbours: list[tuple[int | None, int | None]] = []
        self._position: list[float] = []
        self._first: list[float] = []
        # A sentence's neighbours are the sentences before and after it in the same section of its document.
        runs = [(sentence.doc_id, sentence.section) for sentence in store.sentences]
        first_row = 0
        last = len(runs) - 1
        for row, run in enumerate(runs):
            if row == 0 or runs[row - 1][0] != run[0]:
                first_row = row
            self._neighbours.append(
                (
                    row - 1 if row > 0 and runs[row - 1] == run else None,
                    row + 1 if row < last and runs[row + 1] == run else None,
                )
            )
            self._position.append(float(row - first_row))
            self._first.append(1.0 if row == first_row else 0.0)

    def _lexical_texts(self, records: Sequence[Passage] | Sequence[Sentence]) -> list[str]:
        if not self.params.lexical_title_context:
            return [r.text for r in records]
        return [f"{self.store.documents[r.doc_id].title}: {r.text}" for r in records]

    def _params(self, overrides: dict[str, Any]) -> RetrievalParams:
        fixed = INDEX_FIELDS & overrides.keys()
        if fixed:
            raise ValueError(f"{', '.join(sorted(fixed))} shape the BM25 indexes: set them when building the retriever")
        return replace(self.params, **overrides) if overrides else self.params

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def search(
        self, query: str, k: int, *, query_vector: np.ndarray | None = None, **overrides: Any
    ) -> list[ScoredPassage]:
        """The ``k`` best passages for ``query``."""
        if k < 1:
            raise ValueError("k must be at least 1")
        params = self._params(overrides)
        total = len(self.store.passages)
        if total == 0:
            return []
        vector = self.embed_query(query) if query_vector is None else query_vector
        depth = min(max(params.depth, k), total)
        found_scores, dense_rank = self.store.search_passages(vector, depth)
        dense: dict[int, float] = dict(zip(dense_rank, found_scores, strict=True))
        # Ranked and looked up among the passages holding a query term only, never by sorting the corpus.
        lexical_all = self._passage_bm25.sparse_scores(query)
        lexical_rank = [row for row, _ in lexical_all.top(depth)]
        lexical_top = lexical_all.max() if lexical_all.size else 0.0
        missing = [row for row in lexical_rank if row not in dense]
        if missing:
            vectors = self.store.passage_vectors_at(missing) if self._large else self._passage_vectors[missing]
            dense.update(zip(missing, (vectors @ vector).tolist(), strict=True))
        # BM25 over its best score (as _unit_max), for the rows fusion reads: the lexical and dense candidates.
        candidates = list(dense)
        normalised = lexical_all[candidates] / lexical_top if lexical_top > 0 else np.zeros(len(candidates))
        lexical_norm = dict(zip(candidates, normalised.tolist(), strict=True))
        fused: dict[int, float] = {}
        if params.fusion == "dense":
            fused = {row: dense[row] for row in dense_rank}
        elif params.fusion == "bm25":
            fused = {row: lexical_norm[row] for row in lexical_rank}
        elif params.fusion == "rrf":
            for ranking in (dense_rank, lexical_rank):
                for rank, row in enumerate(ranking):
                    fused[row] = fused.get(row, 0.0) + 1.0 / (params.rrf_k + rank + 1)
        else:
            w = params.dense_weight
            fused = {row: w * dense[row] + (1 - w) * lexical_norm[row] for row in dense}
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        ranked_rows = [row for row, _ in ranked]
        evidence = lexical_all
        if self._passage_evidence_bm25 is not self._passage_bm25:
            evidence = self._passage_evidence_bm25.scores_at(query, ranked_rows)
        evidence_at = evidence[ranked_rows].tolist()
        return [
            ScoredPassage(row, self.store.passages[row], score, dense[row], float(lexical))
            for (row, score), lexical in zip(ranked, evidence_at, strict=True)
        ]

    def rank_sentences(
        self,
        query: str,
        passages: Sequence[ScoredPassage],
        *,
        query_vector: np.ndarray | None = None,
        include_headings: bool = False,
        use_ranker: bool = True,
        **overrides: Any,
    ) -> list[ScoredSentence]:
        """Score every sentence of ``passages``: with the learned ranker when there is one, otherwise
        a weighted sum of dense similarity, BM25 and its passage's score."""
        params = self._params(overrides)
        vector = self.embed_query(query) if query_vector is None else query_vector
        found = self.sentence_signals(query, passages, query_vector=vector, include_headings=include_headings)
        if found is None:
            return []
        signals, passage_lexical = found
        rows = signals.rows
        dense, lexical = signals.dense, signals.lexical
        lexical_norm = _unit_max(lexical)
        ranker = self.ranker if use_ranker else None
        probabilities = ranker.probabilities(sentence_features(signals)) if ranker is not None else None
        passage_score = dict(zip(rows, signals.passage_score.tolist(), strict=True))
        scored_sentences = []
        for position, row in enumerate(rows):
            if probabilities is not None:
                score = float(probabilities[position])
            else:
                score = (
                    params.sentence_dense_weight * float(dense[position])
                    + params.sentence_lexical_weight * float(lexical_norm[position])
                    + params.sentence_passage_weight * passage_score[row]
                )
            scored_sentences.append(
                ScoredSentence(
                    row,
                    self.store.sentences[row],
                    score,
                    float(dense[position]),
                    float(lexical[position]),
                    passage_score[row],
                    passage_lexical[row],
                    None if probabilities is None else score,
                    bool(signals.type_match[position]),
                    float(signals.coverage_with_neighbours[position]),
                )
            )
        scored_sentences.sort(key=lambda s: (-s.score, s.row))
        return scored_sentences

    def sentence_signals(
        self,
        query: str,
        passages: Sequence[ScoredPassage],
        *,
        query_vector: np.ndarray | None = None,
        include_headings: bool = False,
    ) -> tuple[CandidateSignals, dict[int, float]] | None:
        """Signals of every sentence of ``passages`` and, per row, its passages' best raw BM25."""
        if not passages:
            return None
        vector = self.embed_query(query) if query_vector is None else query_vector
        best = max(p.score for p in passages)
        floor = min(p.score for p in passages)
        spread = best - floor
        passage_score: dict[int, float] = {}
        passage_lexical: dict[int, float] = {}
        for scored in passages:
            relative = (scored.score - floor) / spread if spread > 0 else 1.0
            for row in scored.passage.sentence_ids:
                passage_score[row] = max(passage_score.get(row, 0.0), relative)
                passage_lexical[row] = max(passage_lexical.get(row, 0.0), scored.lexical)
        rows = [r for r in passage_score if include_headings or not self.store.sentences[r].is_heading]
        if not rows:
            return None
        # BM25 of the candidates and their neighbours only (what the signals read), not of every sentence.
        needed = set(rows)
        for row in rows:
            needed.update(r for r in self._neighbours[row] if r is not None)
        lexical_at = self._sentence_bm25.scores_at(query, sorted(needed))
        return self.candidate_signals(query, rows, vector, lexical_at, passage_score), passage_lexical

    def candidate_signals(
        self,
        query: str,
        rows: Sequence[int],
        vector: np.ndarray,
        lexical_all: np.ndarray | SparseScores,
        passage_score: dict[int, float],
        answer_type: AnswerType | None = None,
    ) -> CandidateSignals:
        """The raw signals the ranker's features are made of, for the sentences at ``rows``."""
        answer_type = classify_question(query) if answer_type is None else answer_type
        asked = question_words(query)
        asked_ordinals = ordinals(query)
        counted = counted_terms(query)
        granularity = date_granularity(query)
        terms = frozenset(content_terms(query))
        store = self.store
        n = len(rows)
        row_array = np.asarray(rows, dtype=np.int64)
        dense = self._sentence_vectors[row_array] @ vector if n else np.zeros(0)
        type_cache: dict[int, float] = {}

        def type_of(row: int) -> float:
            if row not in type_cache:
                sentence = store.sentences[row]
                entities = store.entities[row] if row < len(store.entities) else ()
                type_cache[row] = typed_match(
                    answer_type, entities, sentence.text, store.documents[sentence.doc_id].text, asked
                )
            return type_cache[row]

        def cover(found: frozenset[str]) -> float:
            return len(terms & found) / len(terms) if terms else 0.0

        names = ("coverage", "coverage_n", "type", "n_type", "cue", "n_dense", "n_lex", "title", "pos", "first", "len")
        arrays = {name: np.zeros(n) for name in (*names, "quote", "ordinal", "counted", "granular")}
        for i, row in enumerate(rows):
            sentence = store.sentences[row]
            neighbours = [r for r in self._neighbours[row] if r is not None]
            own = self._sentence_terms[row]
            arrays["coverage"][i] = cover(own)
            arrays["coverage_n"][i] = cover(own.union(*(self._sentence_terms[r] for r in neighbours)))
            arrays["type"][i] = type_of(row)
            arrays["n_type"][i] = max((type_of(r) for r in neighbours), default=0.0)
            arrays["cue"][i] = 1.0 if answer_type in (AnswerType.REASON, AnswerType.LIST) and type_of(row) else 0.0
            if neighbours:
                arrays["n_dense"][i] = float(max(self._sentence_vectors[neighbours] @ vector))
                arrays["n_lex"][i] = float(max(lexical_all[neighbours]))
            arrays["title"][i] = cover(self._title_terms[row])
            arrays["pos"][i] = self._position[row]
            arrays["first"][i] = self._first[row]
            arrays["len"][i] = float(sentence.end - sentence.start)
            arrays["quote"][i] = 1.0 if any(q in sentence.text for q in ('"', "“", "”")) else 0.0
            arrays["ordinal"][i] = ordinal_agreement(asked_ordinals, sentence.text)
            arrays["counted"][i] = counts_asked(counted, sentence.text)
            arrays["granular"][i] = has_granularity(granularity, sentence.text, asked)
        return CandidateSignals(
            rows=list(rows),
            dense=np.asarray(dense, dtype=np.float64),
            lexical=np.asarray(lexical_all[row_array], dtype=np.float64) if n else np.zeros(0),
            passage_score=np.asarray([passage_score.get(r, 0.0) for r in rows], dtype=np.float64),
            coverage=arrays["coverage"],
            coverage_with_neighbours=arrays["coverage_n"],
            type_match=arrays["type"],
            neighbour_type_match=arrays["n_type"],
            cue=arrays["cue"],
            neighbour_dense=arrays["n_dense"],
            neighbour_lexical=arrays["n_lex"],
            title_overlap=arrays["title"],
            position=np.log1p(arrays["pos"]),
            first_sentence=arrays["first"],
            length=arrays["len"],
            quote=arrays["quote"],
            answer_type=answer_type,
            ordinal=arrays["ordinal"],
            counted=arrays["counted"],
            granular=arrays["granular"],
        )

    def coverage(self, query: str, ranked: Sequence[ScoredSentence] = (), *, top: int = 10) -> QuestionCoverage:
        """Whether the articles mention the question's subject: its terms and its names and numbers, in the
        whole corpus and in the ``top`` best of ``ranked``."""
        terms = set(content_terms(query))
        total = len(self._sentence_terms) or 1
        weights = {t: float(np.log((total + 1) / (self._term_df.get(t, 0) + 0.5))) for t in terms}
        weight_sum = sum(weights.values())
        present = sum(w for t, w in weights.items() if self._term_df.get(t, 0) > 0)
        named = [_POSSESSIVE.sub("", m.group(0).strip(".,")).casefold() for m in _NAMED.finditer(query.strip())]
        named = [n for n in named if n]

        def found_in(words: frozenset[str], name: str) -> bool:
            # More than half of its words: one misspelt word keeps a longer name ("Merceds-Benz Superdome"),
            # its common words alone ("Council", "Europe") do not.
            parts = [w for w in _WORD.findall(name) if w not in _NAME_LINKS]
            return sum(_name_stem(w) in words for w in parts) * 2 > len(parts)

        missing = tuple(n for n in named if not found_in(self._words, n))
        candidate_named = 1.0
        if named and ranked:
            texts = [s.sentence.text for s in ranked[:top]]
            texts += list({self.store.documents[s.sentence.doc_id].title for s in ranked[:top]})
            words = frozenset(_name_stem(w) for text in texts for w in _WORD.findall(text))
            candidate_named = sum(found_in(words, n) for n in named) / len(named)
        return QuestionCoverage(
            terms=present / weight_sum if weight_sum > 0 else 0.0,
            named=1.0 - len(missing) / len(named) if named else 1.0,
            missing=missing,
            candidate_named=candidate_named,
            uncounted=self._vocabulary.uncounted(query),
        )

    def sentence_vector(self, row: int) -> np.ndarray:
        return self._sentence_vectors[row]
