from __future__ import annotations

import numpy as np
import pytest

from rag.chunking import ChunkingParams, embed_sentences, passages_of, sentences_of
from rag.documents import Block, Document
from rag.embedding import HashingEmbedder


def make_document(paragraphs: list[str], sections: list[int]) -> Document:
    text, blocks, cursor = "", [], 0
    for paragraph, section in zip(paragraphs, sections, strict=False):
        text += paragraph + "\n\n"
        blocks.append(Block(cursor, cursor + len(paragraph), section))
        cursor = len(text)
    return Document("doc", text, title="t", blocks=blocks)


def test_windows_overlap_and_stay_within_sections() -> None:
    document = make_document(["One. Two. Three. Four.", "Five.", "Six. Seven."], [0, 0, 1])
    sentences = sentences_of(document)
    passages = passages_of(document, sentences, 10, ChunkingParams(passage_sentences=3, passage_overlap=1))
    texts = [[sentences[i - 10].text for i in p.sentence_ids] for p in passages]
    assert texts == [["One.", "Two.", "Three."], ["Three.", "Four.", "Five."], ["Six.", "Seven."]]
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text


def test_max_chars_limits_a_window() -> None:
    long = "X" * 60 + "."
    document = make_document([f"{long} {long} {long}"], [0])
    sentences = sentences_of(document)
    passages = passages_of(document, sentences, 0, ChunkingParams(3, 0, 100))
    assert [len(p.sentence_ids) for p in passages] == [1, 1, 1]


def test_passage_ids_are_content_hashes() -> None:
    document = make_document(["One. Two."], [0])
    first = passages_of(document, sentences_of(document), 0, ChunkingParams())
    again = passages_of(document, sentences_of(document), 0, ChunkingParams())
    changed = make_document(["One. Two!"], [0])
    other = passages_of(changed, sentences_of(changed), 0, ChunkingParams())
    assert [p.passage_id for p in first] == [p.passage_id for p in again]
    assert first[0].passage_id != other[0].passage_id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"passage_sentences": 0}, "passage_sentences"),
        ({"passage_sentences": 2, "passage_overlap": 2}, "passage_overlap"),
        ({"passage_max_chars": 10}, "passage_max_chars"),
    ],
)
def test_invalid_params_are_rejected_early(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkingParams(**kwargs)


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_sentence_vectors_blend_the_sentence_with_its_titled_form(share: float) -> None:
    embedder = HashingEmbedder(64)
    sentences = ["He said the talks stalled.", "Buses took them home."]
    vectors = embed_sentences(embedder, "Exchange resumes", sentences, ChunkingParams(sentence_title_context=share))
    alone = embedder.embed(sentences)
    titled = embedder.embed([f"Exchange resumes: {s}" for s in sentences])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    if share == 0.0:
        assert np.allclose(vectors, alone)
    elif share == 1.0:
        assert np.allclose(vectors, titled)
    else:
        expected = alone + titled
        assert np.allclose(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-6)


def test_an_untitled_document_embeds_its_sentences_alone() -> None:
    embedder = HashingEmbedder(64)
    vectors = embed_sentences(embedder, "", ["One fact."], ChunkingParams(sentence_title_context=0.5))
    assert np.allclose(vectors, embedder.embed(["One fact."]))


def test_title_context_share_is_validated() -> None:
    with pytest.raises(ValueError, match="sentence_title_context"):
        ChunkingParams(sentence_title_context=1.5)
