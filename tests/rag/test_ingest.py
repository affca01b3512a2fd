from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.chunking import sentences_of
from rag.ingest import IngestError, clean_document, load_documents, load_path
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def seeds() -> dict[str, object]:
    articles, faqs = load_documents([SEEDS])
    return {"articles": {d.doc_id: d for d in articles}, "faqs": faqs}


def kept_text(document: object) -> str:
    return "\n".join(document.text[b.start : b.end] for b in document.blocks)  # type: ignore[attr-defined]


def test_faq_document_is_recognised_by_shape_and_kept_apart(seeds: dict) -> None:
    assert sorted(seeds["articles"]) == [
        "000_547d51fb02376e96",
        "001_da2890c1c1429775",
        "002_40c1d57616b0398b",
        "003_6085d973d4879d11",
    ]
    assert [d.doc_id for d in seeds["faqs"]] == ["004_286debfea32733cf"]


def test_titles_come_from_the_first_content_line(seeds: dict) -> None:
    articles = seeds["articles"]
    assert (
        articles["000_547d51fb02376e96"].title
        == "Ukraine hopes to resume prisoner exchanges by year-end, Zelenskyy says"
    )
    assert articles["001_da2890c1c1429775"].title == "Ukraine seeking exchange of 1,200 prisoners with Russia"


def test_boilerplate_is_dropped(seeds: dict) -> None:
    a0, a1, a2, a3 = (seeds["articles"][k] for k in sorted(seeds["articles"]))
    assert "ua en ru" not in kept_text(a0)
    assert "Photo:" not in kept_text(a0) and "Author:" not in kept_text(a0)
    assert "Tags" not in kept_text(a1).splitlines()
    assert "By Tamilla Hasanova" not in kept_text(a2)
    for fragment in (
        "Read also",
        "Photo: Office",
        "While citing",
        "All rights reserved",
        "Extended search",
        "By period",
        "Media identifier",
    ):
        assert fragment not in kept_text(a3), fragment
    assert kept_text(a3).endswith("during a meeting in Ankara.")


def test_title_and_byline_metadata(seeds: dict) -> None:
    articles = seeds["articles"]
    assert articles["001_da2890c1c1429775"].source == "Reuters"
    assert articles["003_6085d973d4879d11"].source == "Ukrinform"
    assert articles["000_547d51fb02376e96"].author == "Daryna Vialko"
    assert articles["002_40c1d57616b0398b"].author == "Tamilla Hasanova"


def test_title_repeated_as_a_paragraph_is_kept_once(seeds: dict) -> None:
    document = seeds["articles"]["003_6085d973d4879d11"]
    assert kept_text(document).count("Umerov seeks to resume prisoner exchanges during visit to Turkey") == 1


def test_repeated_paragraph_is_indexed_once(seeds: dict) -> None:
    document = seeds["articles"]["001_da2890c1c1429775"]
    assert document.text.count("Ukraine is working to restart prisoner exchanges") == 2
    assert kept_text(document).count("Ukraine is working to restart prisoner exchanges") == 1


def test_all_offsets_refer_to_the_original_file_text(seeds: dict) -> None:
    for doc_id, document in seeds["articles"].items():
        raw = (SEEDS / f"{doc_id}.txt").read_text(encoding="utf-8")
        assert document.text == raw
        for sentence in sentences_of(document):
            assert raw[sentence.start : sentence.end] == sentence.text


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    # Windows editors start UTF-8 files with U+FEFF; it ended up in the title and broke a JSONL file's first line.
    (tmp_path / "story.txt").write_bytes(b"\xef\xbb\xbfCouncil votes\n\nThe council met on Monday. It voted.\n")
    (tmp_path / "feed.jsonl").write_bytes(
        b'\xef\xbb\xbf{"id": "j1", "title": "Mayor speaks", "text": "The mayor spoke on Friday."}\n'
    )
    articles, _ = load_documents([tmp_path])
    by_id = {document.doc_id: document for document in articles}
    record = by_id.pop("j1")
    (story,) = by_id.values()
    assert story.title == "Council votes" and story.text.startswith("Council votes\n")
    assert "\ufeff" not in story.text and record.doc_id == "j1" and record.title == "Mayor speaks"
    for sentence in sentences_of(story):
        assert story.text[sentence.start : sentence.end] == sentence.text


def test_dropped_lines_record_a_reason() -> None:
    text = "en ru\nHeadline here\nHeadline here\nBody sentence one.\nRead also: other story\nTags"
    reasons = [reason for _, _, reason in clean_document(text).dropped]
    assert reasons == ["language switcher", "repeated title", "read also", "tags"]


def test_jsonl_records_keep_metadata_and_title(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    rows = [
        {
            "id": "a1",
            "title": "Talks resume",
            "text": "Talks resume\nDelegates met in Geneva. They agreed.",
            "url": "https://example.org/a1",
            "published": "2025-11-16",
            "source": "Example News",
        },
        {"id": "a2", "text": "Second story\nA prisoner swap happened."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    first, second = load_path(path)
    assert (first.doc_id, first.title, first.url, first.source, first.published) == (
        "a1",
        "Talks resume",
        "https://example.org/a1",
        "Example News",
        "2025-11-16",
    )
    assert [first.text[b.start : b.end] for b in first.blocks] == ["Delegates met in Geneva. They agreed."]
    assert second.title == "Second story"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "feed.jsonl:1: not valid JSON"),
        ('["a list"]', "feed.jsonl:1: expected a JSON object"),
        ('{"id": "x"}', "feed.jsonl:1: field 'text' must be a non-empty string"),
        ('{"id": "x", "text": "t", "url": 5}', "feed.jsonl:1: field 'url' must be a string"),
        ('{"id": "x", "text": "\\u200b\\ufeff"}', "feed.jsonl:1: field 'text' must be a non-empty string"),
        (
            '{"id": "x", "text": "t", "title": "a\\u0000b"}',
            "feed.jsonl:1: field 'title' holds a NUL character (U+0000 at position 1)",
        ),
    ],
)
def test_bad_jsonl_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(IngestError, match=re.escape(message)):
        load_path(path)


def test_markdown_paragraphs_and_headings(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text("# The headline\n\nFirst line of a paragraph\ncontinues here. Second sentence.\n", encoding="utf-8")
    (document,) = load_path(path)
    assert document.title == "The headline"
    texts = [s.text for s in sentences_of(document)]
    assert texts == ["The headline", "First line of a paragraph\ncontinues here.", "Second sentence."]


def test_unsupported_missing_empty_and_duplicate_files(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(IngestError, match=r"unsupported file type '\.pdf'"):
        load_path(tmp_path / "a.pdf")
    with pytest.raises(IngestError, match="no such file or directory"):
        load_documents([tmp_path / "missing"])
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(IngestError, match="file is empty"):
        load_path(tmp_path / "empty.txt")
    (tmp_path / "invisible.txt").write_text("\ufeff\u200b\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"invisible\.txt: file is empty"):
        load_path(tmp_path / "invisible.txt")
    (tmp_path / "binary.txt").write_bytes(b"Title\nBody\x00 with a NUL.")
    with pytest.raises(IngestError, match=r"binary\.txt: holds a NUL character \(at character 10\)"):
        load_path(tmp_path / "binary.txt")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(IngestError, match="not UTF-8"):
        load_path(tmp_path / "bad.txt")
    one, two = tmp_path / "d1", tmp_path / "d2"
    one.mkdir()
    two.mkdir()
    (one / "same.txt").write_text("Title\nBody.", encoding="utf-8")
    (two / "same.txt").write_text("Title\nBody.", encoding="utf-8")
    with pytest.raises(IngestError, match="document id 'same' already used"):
        load_documents([one, two])
