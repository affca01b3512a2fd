"""The written corpus: the journal's durability rules and how it layers over the seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import ArticleRecord, CorpusJournal, JournalEntry, JournalError, apply_journal, load_corpus
from rag.documents import Document
from tests.conftest import SEEDS

SEED = "000_547d51fb02376e96"


def put(doc_id: str, text: str = "Some text about a thing.") -> JournalEntry:
    return JournalEntry("put", doc_id, ArticleRecord(doc_id, text))


def test_journal_round_trip_keeps_order_and_fields(tmp_path: Path) -> None:
    journal = CorpusJournal(tmp_path / "sub" / "w.jsonl")
    record = ArticleRecord("a", "Text ✓ with NUL \x00 and RTL مرحبا.", "Title", "https://x", "2026-11-23", "Wire")
    journal.append([JournalEntry("put", "a", record)])
    journal.append([JournalEntry("delete", "b"), put("c")])
    entries = journal.read()
    assert [(e.op, e.id) for e in entries] == [("put", "a"), ("delete", "b"), ("put", "c")]
    assert entries[0].article == record


def test_a_torn_last_line_is_ignored_and_cut_off_before_the_next_append(tmp_path: Path) -> None:
    journal = CorpusJournal(tmp_path / "w.jsonl")
    journal.append([put("a")])
    with journal.path.open("ab") as handle:  # a crash in the middle of writing the next record
        handle.write(b'{"op": "put", "id": "torn-b", "article": {"id": "torn-b", "te')
    assert [e.id for e in journal.read()] == ["a"]
    journal.append([put("c")])
    assert [e.id for e in journal.read()] == ["a", "c"]
    assert b"torn-b" not in journal.path.read_bytes()


def test_a_complete_last_line_without_newline_counts(tmp_path: Path) -> None:
    journal = CorpusJournal(tmp_path / "w.jsonl")
    journal.append([put("a")])
    journal.path.write_bytes(journal.path.read_bytes().rstrip(b"\n"))
    assert [e.id for e in journal.read()] == ["a"]
    journal.append([put("b")])
    assert [e.id for e in journal.read()] == ["a", "b"]


def test_damage_before_the_last_line_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    journal = CorpusJournal(tmp_path / "w.jsonl")
    journal.append([put("a"), put("b"), put("c")])
    lines = journal.path.read_bytes().split(b"\n")
    lines[1] = b'{"op": "rename"}'
    journal.path.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalError, match=r"w\.jsonl:2: not a journal record"):
        journal.read()


def test_truncate_undoes_an_append(tmp_path: Path) -> None:
    journal = CorpusJournal(tmp_path / "w.jsonl")
    journal.append([put("a")])
    length = journal.append([put("b")])
    journal.truncate(length)
    assert [e.id for e in journal.read()] == ["a"]


def test_journal_overrides_and_extends_the_seeds_and_tombstones_win() -> None:
    seeds = [Document("s1", "Seed one text."), Document("s2", "Seed two text.")]
    entries = [put("s1", "Replaced seed text."), put("n1"), JournalEntry("delete", "s2"), JournalEntry("delete", "n0")]
    corpus = {d.doc_id: d.text for d in apply_journal(seeds, entries)}
    assert corpus == {"s1": "Replaced seed text.", "n1": "Some text about a thing."}
    again = {d.doc_id for d in apply_journal(seeds, [*entries, put("s2"), JournalEntry("delete", "n1")])}
    assert again == {"s1", "s2"}


def test_load_corpus_applies_the_journal_to_the_seed_files(tmp_path: Path) -> None:
    journal = CorpusJournal(tmp_path / "w.jsonl")
    journal.append([JournalEntry("delete", SEED), put("new")])
    articles, faqs = load_corpus([SEEDS], journal)
    ids = {d.doc_id for d in articles}
    assert SEED not in ids and "new" in ids and len(ids) == 4 and len(faqs) == 1
    assert (SEEDS / f"{SEED}.txt").exists()


def test_written_article_is_cleaned_like_a_jsonl_seed_record() -> None:
    document = ArticleRecord("x", "The headline\n\nBy Jane Roe\n\nThe body sentence.").to_document()
    assert document.title == "The headline" and document.author == "Jane Roe"
    assert [document.text[b.start : b.end] for b in document.blocks] == ["The headline", "The body sentence."]


def test_compaction_keeps_the_last_record_of_each_id_and_only_seed_tombstones() -> None:
    from rag.corpus import compacted

    entries = [put("a", "v1"), put("s1", "mine"), put("a", "v2"), JournalEntry("delete", "b"), put("b"), put("c")]
    entries += [JournalEntry("delete", "c"), JournalEntry("delete", "s2")]
    shorter = compacted({"s1", "s2"}, entries)
    assert [(e.op, e.id) for e in shorter] == [("put", "s1"), ("put", "a"), ("put", "b"), ("delete", "s2")]
    seeds = [Document("s1", "Seed one."), Document("s2", "Seed two.")]
    as_is = {d.doc_id: d.text for d in apply_journal(seeds, entries)}
    assert {d.doc_id: d.text for d in apply_journal(seeds, shorter)} == as_is
