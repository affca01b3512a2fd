from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.embedding import HashingEmbedder
from rag.pipeline import QAPipeline
from rag.retrieval import HybridRetriever, RetrievalParams, ScoredSentence


@pytest.mark.parametrize("fusion", ["rrf", "weighted", "dense", "bm25"])
def test_every_fusion_finds_the_passage_that_shares_the_words(fake_pipeline: QAPipeline, fusion: str) -> None:
    hits = fake_pipeline.retriever.search("meeting of national security advisors January 3", 3, fusion=fusion)
    assert hits and "national security advisors" in hits[0].passage.text
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_hits_are_verbatim_spans_of_their_documents(fake_pipeline: QAPipeline) -> None:
    for hit in fake_pipeline.search("prisoner exchange Istanbul", 10):
        document = fake_pipeline.store.documents[hit.passage.doc_id]
        assert document.text[hit.passage.start : hit.passage.end] == hit.passage.text


def test_lexical_only_query_without_known_terms_finds_nothing(fake_pipeline: QAPipeline) -> None:
    assert fake_pipeline.retriever.search("zzyzx qwerty", 5, fusion="bm25") == []


def test_sentences_are_ranked_within_retrieved_passages(fake_pipeline: QAPipeline) -> None:
    retriever = fake_pipeline.retriever
    passages = retriever.search("Chiefs of the General Staff meeting", 4)
    ranked = retriever.rank_sentences("Chiefs of the General Staff meeting", passages)
    allowed = {row for p in passages for row in p.passage.sentence_ids}
    assert ranked and {s.row for s in ranked} <= allowed
    assert "Chiefs of the General Staff" in ranked[0].sentence.text
    assert not any(s.sentence.is_heading for s in ranked)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fusion": "max"}, "fusion must be one of"),
        ({"depth": 0}, "depth"),
        ({"dense_weight": 1.5}, "dense_weight"),
    ],
)
def test_invalid_params_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetrievalParams(**kwargs)  # type: ignore[arg-type]


def test_k_must_be_positive(fake_pipeline: QAPipeline) -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        fake_pipeline.search("x", 0)


def test_bm25_sees_the_title_but_passage_evidence_does_not(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [
        {"id": "a", "title": "Kherson swap", "text": "Buses took them home. Families waited."},
        {"id": "b", "title": "Weather", "text": "Rain is expected in Lviv. Winds will be strong."},
    ]
    (corpus / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    pipeline, _ = QAPipeline.from_paths([corpus], tmp_path / "idx", embedder=HashingEmbedder())
    assert "Kherson" not in "".join(p.text for p in pipeline.store.passages)
    hits = pipeline.retriever.search("Kherson", 3, fusion="bm25")
    assert [h.passage.doc_id for h in hits] == ["a"]
    assert hits[0].lexical == 0.0  # the title is shared by every passage of a: no evidence of an answer
    plain, _ = QAPipeline.from_paths(
        [corpus], tmp_path / "idx2", embedder=HashingEmbedder(), retrieval=RetrievalParams(lexical_title_context=False)
    )
    assert plain.retriever.search("Kherson", 3, fusion="bm25") == []


def test_bm25_index_parameters_cannot_be_overridden_per_call(fake_pipeline: QAPipeline) -> None:
    with pytest.raises(ValueError, match="sentence_bm25_k1 shape the BM25 indexes"):
        fake_pipeline.retriever.search("exchange", 3, sentence_bm25_k1=2.0)


def test_bm25_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="sentence_bm25_b"):
        RetrievalParams(sentence_bm25_b=1.5)


def test_coverage_counts_the_names_found_in_the_candidate_sentences(fake_pipeline: QAPipeline) -> None:
    store = fake_pipeline.store
    rows = [row for row, s in enumerate(store.sentences) if "Zelenskyy" in s.text][:3]
    ranked = [ScoredSentence(row, store.sentences[row], 1.0, 0.5, 1.0, 1.0) for row in rows]
    retriever = fake_pipeline.retriever
    assert retriever.coverage("What did Zelenskyy's office say?", ranked).candidate_named == 1.0  # possessive
    # Norway is in no candidate (nor in the corpus); with no ranking the share is not judged.
    assert retriever.coverage("What did Zelenskyy say to Norway?", ranked).candidate_named == 0.5
    assert retriever.coverage("What did Zelenskyy say to Norway?").candidate_named == 1.0


@pytest.mark.parametrize(
    ("question", "named", "missing"),
    [
        # One name, not four words: "Council" and "Europe" alone do not make it a subject of the articles.
        (
            "What did the Parliamentary Assembly of the Council of Europe urge?",
            0.0,
            ("parliamentary assembly of the council of europe",),
        ),
        ("What did Umerov discuss in the United Arab Emirtes?", 1.0, ()),  # one misspelt word of three
        ("What did Erdogan offer?", 1.0, ()),  # accents folded: the articles write Erdoğan
        ("What did Umerov say in Ottawa?", 0.5, ("ottawa",)),
    ],
)
def test_coverage_matches_whole_names(
    fake_pipeline: QAPipeline, question: str, named: float, missing: tuple[str, ...]
) -> None:
    coverage = fake_pipeline.retriever.coverage(question)
    assert (coverage.named, coverage.missing) == (named, missing)


@pytest.mark.parametrize(
    ("question", "uncounted"),
    [
        # The articles mention kidnapped children and the bodies of fallen soldiers, never how many.
        ("How many Ukrainian children have been deported to Russia?", "children"),
        ("How many bodies of fallen soldiers were repatriated?", "bodies"),
        ("How many Ukrainians does Kyiv hope to free?", None),  # "around 1,200 Ukrainians"
        ("How many sessions of peace talks were held?", None),  # never mentioned: no evidence either way
        ("What did Umerov say?", None),
    ],
)
def test_coverage_names_what_the_articles_mention_but_never_count(
    fake_pipeline: QAPipeline, question: str, uncounted: str | None
) -> None:
    assert fake_pipeline.retriever.coverage(question).uncounted == uncounted


@pytest.mark.parametrize("fusion", ["rrf", "weighted", "dense", "bm25"])
@pytest.mark.parametrize("title_context", [True, False])
def test_the_large_corpus_path_gives_the_same_passages_and_sentences(
    fake_pipeline: QAPipeline, fusion: str, title_context: bool
) -> None:
    """From RetrievalParams.large_corpus passages BM25 is scored from postings and vectors read by row:
    forced here on the seeds (threshold 1), the results are identical to the whole-corpus path."""
    store, embedder = fake_pipeline.store, HashingEmbedder()
    exact = HybridRetriever(store, embedder, RetrievalParams(fusion=fusion, lexical_title_context=title_context))
    large = HybridRetriever(
        store, embedder, RetrievalParams(fusion=fusion, lexical_title_context=title_context, large_corpus=1)
    )
    assert large._large and not exact._large and large._passage_vectors.size <= 1
    queries = [
        "How many Ukrainians could be released?",
        "meeting of national security advisors January 3",
        "zzz qqq",
        "the",
        "prisoner exchange Istanbul agreements",
    ]
    for query in queries:
        for depth in (3, 50):
            a, b = exact.search(query, 8, depth=depth), large.search(query, 8, depth=depth)
            assert a == b, query
            assert exact.rank_sentences(query, a, use_ranker=False) == large.rank_sentences(query, b, use_ranker=False)
