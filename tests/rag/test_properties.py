"""Property tests (Hypothesis): for any text, sentences and passages are exact, ordered, disjoint spans,
and every citation of an answer is ``document[start:end]``."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import ChunkingParams, passages_of, sentences_of
from rag.corpus import ArticleRecord
from rag.embedding import HashingEmbedder
from rag.pipeline import QAPipeline
from rag.segment import split_sentences
from rag.store import IndexStore
from rag.text import is_blank

# Text that exercises the segmenter: terminators, quotes, abbreviations, digits, line breaks, and
# arbitrary Unicode (RTL, emoji, combining marks, NUL) mixed in.
_PIECES = st.sampled_from(
    [". ", "! ", "? ", "… ", '." ', ".” ", "U.S. ", "Gen. ", "J. ", "1,200 ", "3.5 ", "\n", "\n\n", " — ", "e.g. "]
)
_WORDS = st.text(alphabet=string.ascii_letters + string.digits + "'’\"“”()", min_size=1, max_size=12)
TEXT = st.one_of(
    st.lists(st.one_of(_PIECES, _WORDS, st.just(" ")), max_size=80).map("".join),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
)


def assert_exact_ordered_disjoint(text: str, spans: list[tuple[int, int]], lo: int = 0, hi: int | None = None) -> None:
    hi = len(text) if hi is None else hi
    previous_end = lo
    for start, end in spans:
        assert lo <= previous_end <= start < end <= hi, (spans, lo, hi)
        piece = text[start:end]
        assert piece == piece.strip() and piece  # stripped, never empty
        previous_end = end


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_sentence_spans_are_exact_ordered_and_disjoint(text: str) -> None:
    for line_breaks in (True, False):
        assert_exact_ordered_disjoint(text, split_sentences(text, line_breaks=line_breaks))


@given(TEXT, st.data())
@settings(max_examples=200, deadline=None)
def test_sentence_spans_stay_inside_the_slice_they_were_asked_for(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert_exact_ordered_disjoint(text, split_sentences(text, start, end), start, end)


@given(TEXT.filter(lambda t: t.strip()), st.integers(1, 5), st.integers(0, 2), st.integers(50, 400))
@settings(max_examples=200, deadline=None)
def test_sentences_and_passages_of_any_article_are_exact_spans(text: str, size: int, overlap: int, limit: int) -> None:
    params = ChunkingParams(size, min(overlap, size - 1), limit)
    document = ArticleRecord("doc", text).to_document()
    sentences = sentences_of(document)
    assert_exact_ordered_disjoint(document.text, [(s.start, s.end) for s in sentences])
    for sentence in sentences:
        assert document.text[sentence.start : sentence.end] == sentence.text
        assert any(b.start <= sentence.start and sentence.end <= b.end for b in document.blocks)
    passages = passages_of(document, sentences, 7, params)
    covered: set[int] = set()
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
        members = [sentences[i - 7] for i in passage.sentence_ids]
        assert list(passage.sentence_ids) == list(range(passage.sentence_ids[0], passage.sentence_ids[-1] + 1))
        assert (passage.start, passage.end) == (members[0].start, members[-1].end)
        assert len({s.section for s in members}) == 1  # never across a removed paragraph
        assert len(members) <= params.passage_sentences
        assert len(members) == 1 or passage.end - passage.start <= params.passage_max_chars
        covered.update(passage.sentence_ids)
    assert covered == set(range(7, 7 + len(sentences)))  # every sentence is in some passage


@given(TEXT.filter(lambda t: t.strip()), st.lists(_WORDS, min_size=1, max_size=6), st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_citation_is_the_document_text_at_its_offsets(text: str, words: list[str], data: st.DataObject) -> None:
    documents = [
        ArticleRecord("a", text).to_document(),
        ArticleRecord("b", f"Other news.\n\n{text[::-1]}").to_document(),
    ]
    store, _ = IndexStore.build(documents, HashingEmbedder(64), ChunkingParams())
    pipeline = QAPipeline(store, HashingEmbedder(64))
    # A question made of the text's own words (so something matches) or of random words.
    own = text.split()
    question = " ".join(data.draw(st.lists(st.sampled_from(own), min_size=1, max_size=8))) if own else " ".join(words)
    if is_blank(question):
        question = "news"
    answer = pipeline.ask(question, max_sentences=3)
    for citation in answer.citations:
        assert store.documents[citation.doc_id].text[citation.start : citation.end] == citation.text
    for sentence in answer.sentences:
        assert sentence.text in answer.answer
