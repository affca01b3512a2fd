"""The keyed write API: POST /documents, DELETE /documents/{id}, POST /reindex."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.corpus import CorpusJournal
from rag.pipeline import build_pipeline
from rag.store import IndexStore
from tests.conftest import SEEDS, assert_citations_verbatim

KEY = "test-write-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SEED_ARTICLE = "000_547d51fb02376e96"
ZORBLAX = {
    "id": "zorblax-merger",
    "title": "Zorblax and Quixano merge",
    "text": "Zorblax Industries announced a merger with Quixano on Monday.\n\n"
    "The merged company will employ 12,000 people in Tallinn.",
    "url": "https://example.org/zorblax",
    "published": "2026-11-23",
    "source": "Example Wire",
}


def make_settings(root: Path, **overrides: object) -> Settings:
    seeds = root / "seeds"
    if not seeds.exists():
        shutil.copytree(SEEDS, seeds)
    values: dict[str, object] = {
        "seeds_dir": seeds,
        "index_dir": root / "index" / "default",
        "model": "hashing",
        "abstain_threshold": 0.15,
        "write_keys": KEY,
        **overrides,
    }
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


def start(settings: Settings) -> TestClient:
    """A fresh service process, as far as the app is concerned: it loads the index from disk."""
    return TestClient(create_app(settings, pipeline=build_pipeline(settings)))


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture()
def writable(settings: Settings) -> Iterator[TestClient]:
    with start(settings) as client:
        yield client


def texts(client: TestClient) -> dict[str, str]:
    listing = client.get("/documents").json()["documents"]
    return {d["doc_id"]: client.get(f"/documents/{d['doc_id']}").json()["text"] for d in listing}


# ---- keys ------------------------------------------------------------------------------------------
def test_writes_are_403_with_instructions_when_no_key_is_configured(tmp_path: Path) -> None:
    with start(make_settings(tmp_path, write_keys="")) as client:
        for response in (
            client.post("/documents", json=ZORBLAX, headers=AUTH),
            client.delete(f"/documents/{SEED_ARTICLE}", headers=AUTH),
            client.post("/reindex", headers=AUTH),
        ):
            assert response.status_code == 403
            assert "RAG_WRITE_KEYS" in response.json()["detail"] and "RAG_WRITE_KEYS_FILE" in response.json()["detail"]
        assert SEED_ARTICLE in texts(client)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 403),
        ({"Authorization": f"Basic {KEY}"}, 401),
        ({"Authorization": f"Bearer {KEY}x"}, 403),
        ({"Authorization": "Bearer " + KEY[:-1]}, 403),
        ({"Authorization": b"Bearer \xe9\xff"}, 403),
        ({"X-API-Key": KEY}, 401),
    ],
    ids=["none", "wrong", "basic scheme", "longer", "prefix", "non-ascii", "read-key header"],
)
def test_writes_need_a_valid_bearer_key(writable: TestClient, headers: dict[str, str], status: int) -> None:
    response = writable.post("/documents", json=ZORBLAX, headers=headers)
    assert response.status_code == status
    assert response.json()["detail"]
    assert "zorblax-merger" not in texts(writable)


@pytest.mark.parametrize(("write_keys", "warmed"), [(KEY, True), ("", False)])
def test_the_entity_tagger_is_loaded_at_start_up_only_when_writes_are_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_keys: str, warmed: bool
) -> None:
    settings = make_settings(tmp_path, write_keys=write_keys)
    pipeline = build_pipeline(settings)
    calls: list[list[str]] = []
    original = pipeline.tagger.tag

    def recording(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        calls.append(list(texts))
        return original(texts)

    monkeypatch.setattr(pipeline.tagger, "tag", recording)
    with TestClient(create_app(settings, pipeline=pipeline)) as client:
        assert bool(calls) is warmed  # before any request
        if warmed:
            assert client.post("/documents", json=ZORBLAX, headers=AUTH).status_code == 200


def test_keys_file_and_read_keys_work_together(tmp_path: Path) -> None:
    keys_file = tmp_path / "write-keys"
    keys_file.write_text("# rotated 2026-11-23\nfile-key-1\n\nfile-key-2\n", encoding="utf-8")
    settings = make_settings(tmp_path, write_keys="", write_keys_file=keys_file, api_keys="reader")
    with start(settings) as client:
        assert client.get("/documents").status_code == 401  # reads still need the read key
        response = client.post("/documents", json=ZORBLAX, headers={"Authorization": "Bearer file-key-2"})
        assert response.status_code == 200, response.text
        assert "zorblax-merger" in {
            d["doc_id"] for d in client.get("/documents", headers={"X-API-Key": "reader"}).json()["documents"]
        }
        assert client.post("/reindex", headers={"Authorization": "Bearer # rotated 2026-11-23"}).status_code == 403


def test_a_keys_file_from_a_windows_editor_gives_the_same_keys(tmp_path: Path) -> None:
    # A byte-order mark made the first key "\ufefffile-key-1", and an indented comment was a key.
    keys_file = tmp_path / "write-keys"
    keys_file.write_bytes(b"\xef\xbb\xbffile-key-1\r\n  # old key below, revoked\r\nfile-key-2\r\n")
    keys = make_settings(tmp_path, write_keys="", write_keys_file=keys_file).all_write_keys()
    assert [key.get_secret_value() for key in keys] == ["file-key-1", "file-key-2"]


def test_an_unreadable_keys_file_fails_at_start_up_naming_the_variable(tmp_path: Path) -> None:
    from rag.config import SettingsError

    with pytest.raises(SettingsError, match="RAG_WRITE_KEYS_FILE"):
        create_app(make_settings(tmp_path, write_keys_file=tmp_path / "missing"))


def test_write_keys_never_reach_the_log_or_config_output(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path)
    assert KEY not in str(settings.masked()) and KEY not in repr(settings)
    with caplog.at_level("DEBUG"), start(settings) as client:
        client.post("/documents", json=ZORBLAX, headers=AUTH)
        client.post("/documents", json=ZORBLAX, headers={"Authorization": "Bearer guess-123"})
    assert KEY not in caplog.text and "guess-123" not in caplog.text


# ---- writes ----------------------------------------------------------------------------------------
def test_added_article_is_answered_now_and_after_a_restart(settings: Settings, writable: TestClient) -> None:
    response = writable.post("/documents", json=ZORBLAX, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == ["zorblax-merger"] and body["documents"] == 5
    assert body["documents_embedded"] == 1 and body["documents_reused"] == 4  # only what changed is embedded
    question = {"question": "How many people will the merged Zorblax company employ?"}
    answer = writable.post("/ask", json=question).json()
    assert "12,000" in answer["answer"] and answer["citations"][0]["doc_id"] == "zorblax-merger"
    assert_citations_verbatim(answer, texts(writable))
    document = writable.get("/documents/zorblax-merger").json()
    assert (document["title"], document["url"], document["source"]) == (
        ZORBLAX["title"],
        ZORBLAX["url"],
        "Example Wire",
    )
    on_disk = IndexStore.load(settings.index_dir)
    assert "zorblax-merger" in on_disk.documents
    with start(settings) as restarted:
        assert "12,000" in restarted.post("/ask", json=question).json()["answer"]


def test_a_list_is_one_write_and_repeating_it_changes_nothing(settings: Settings, writable: TestClient) -> None:
    second = {"id": "second", "text": "The Blue Heron bridge reopened after repairs costing 4 million euros."}
    body = writable.post("/documents", json=[ZORBLAX, second], headers=AUTH).json()
    assert sorted(body["added"]) == ["second", "zorblax-merger"] and body["documents_embedded"] == 2
    size = settings.journal_path().stat().st_size
    again = writable.post("/documents", json=[ZORBLAX, second], headers=AUTH).json()
    assert sorted(again["unchanged"]) == ["second", "zorblax-merger"] and again["documents_embedded"] == 0
    assert settings.journal_path().stat().st_size == size  # nothing to commit


def test_replacing_an_article_re_embeds_it_and_a_new_title_alone_does_too(writable: TestClient) -> None:
    writable.post("/documents", json=ZORBLAX, headers=AUTH)
    changed = {**ZORBLAX, "text": ZORBLAX["text"].replace("12,000", "15,500")}
    body = writable.post("/documents", json=changed, headers=AUTH).json()
    assert body["updated"] == ["zorblax-merger"] and body["documents_embedded"] == 1
    answer = writable.post("/ask", json={"question": "How many people will Zorblax employ?"}).json()
    assert "15,500" in answer["answer"] and "12,000" not in answer["answer"]
    retitled = writable.post("/documents", json={**changed, "title": "A new headline"}, headers=AUTH).json()
    assert retitled["updated"] == ["zorblax-merger"] and retitled["documents_embedded"] == 1
    assert writable.get("/documents/zorblax-merger").json()["title"] == "A new headline"


def test_deleted_seed_article_never_comes_back(settings: Settings, writable: TestClient) -> None:
    question = {"question": "How many Ukrainians does Kyiv hope to free?"}
    assert writable.post("/ask", json=question).json()["citations"][0]["doc_id"] == SEED_ARTICLE
    body = writable.delete(f"/documents/{SEED_ARTICLE}", headers=AUTH).json()
    assert body["deleted"] == [SEED_ARTICLE] and body["documents"] == 3 and body["documents_embedded"] == 0
    assert writable.get(f"/documents/{SEED_ARTICLE}").status_code == 404
    assert all(c["doc_id"] != SEED_ARTICLE for c in writable.post("/ask", json=question).json()["citations"])
    assert any(settings.seeds_dir.glob(f"{SEED_ARTICLE}*"))  # the seed file is still there...
    with start(settings) as restarted:  # ...and still the tombstone wins
        assert restarted.get(f"/documents/{SEED_ARTICLE}").status_code == 404
        restarted.post("/reindex", headers=AUTH)
        assert restarted.get(f"/documents/{SEED_ARTICLE}").status_code == 404
    assert writable.delete(f"/documents/{SEED_ARTICLE}", headers=AUTH).status_code == 404


def test_a_deleted_article_can_be_written_again(settings: Settings, writable: TestClient) -> None:
    writable.post("/documents", json=ZORBLAX, headers=AUTH)
    writable.delete("/documents/zorblax-merger", headers=AUTH)
    assert writable.post("/documents", json=ZORBLAX, headers=AUTH).json()["added"] == ["zorblax-merger"]
    with start(settings) as restarted:
        assert restarted.get("/documents/zorblax-merger").status_code == 200


def test_reindex_picks_up_a_new_seed_file_without_a_restart(settings: Settings, writable: TestClient) -> None:
    (settings.seeds_dir / "late.txt").write_text(
        "Late news\n\nThe Vostok ferry service will resume on 3 March after a strike.\n", encoding="utf-8"
    )
    assert writable.get("/documents/late").status_code == 404
    body = writable.post("/reindex", headers=AUTH).json()
    assert body["added"] == ["late"] and body["documents_embedded"] == 1 and body["documents_reused"] == 4
    assert "3 March" in writable.post("/ask", json={"question": "When will the Vostok ferry resume?"}).json()["answer"]
    full = writable.post("/reindex", params={"full": True}, headers=AUTH).json()
    assert full["documents_embedded"] == 5 and full["documents_reused"] == 0


def test_faq_follows_the_swap(writable: TestClient) -> None:
    before = writable.get("/faq").json()
    writable.delete(f"/documents/{SEED_ARTICLE}", headers=AUTH)
    after = writable.get("/faq").json()
    assert after["corpus_fingerprint"] != before["corpus_fingerprint"]
    cited = {c["doc_id"] for item in after["items"] for c in item["citations"]}
    assert SEED_ARTICLE in {c["doc_id"] for item in before["items"] for c in item["citations"]}
    assert SEED_ARTICLE not in cited
    assert writable.get("/health").json()["documents"] == 3


def test_deleting_every_article_leaves_a_service_that_abstains(writable: TestClient) -> None:
    for doc_id in list(texts(writable)):
        assert writable.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 200
    answer = writable.post("/ask", json={"question": "How many Ukrainians does Kyiv hope to free?"})
    assert answer.status_code == 200 and answer.json()["abstained"]
    assert writable.get("/search", params={"q": "Kyiv"}).json()["hits"] == []
    assert writable.get("/faq").status_code == 200
    assert writable.post("/documents", json=ZORBLAX, headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"id": "a b", "text": "x"}, 422, "id: String should match pattern"),
        ({"id": "../etc", "text": "x"}, 422, "id: String should match pattern"),
        ({"id": "", "text": "x"}, 422, "id: String should match pattern"),
        ({"id": "x" * 201, "text": "x"}, 422, "id: String should match pattern"),
        ({"id": "ok", "text": "  \n"}, 422, "text must not be empty"),
        ({"id": "ok", "text": "who \ud800"}, 422, "lone surrogate"),
        ({"id": "ok", "text": "x", "title": "\udc00"}, 422, "lone surrogate"),
        ({"id": "ok", "text": "\u200b\ufeff\x01"}, 422, "text must not be empty"),
        # PostgreSQL cannot store U+0000 in text or jsonb: refused for every backend, before any store sees it.
        ({"id": "ok", "text": "who\x00 is"}, 422, "article.text: contains a NUL character (U+0000 at position 3)"),
        ({"id": "ok", "text": "x", "title": "t\x00"}, 422, "article.title: contains a NUL character"),
        ({"id": "ok", "text": "x", "source": "a\x00b"}, 422, "article.source: contains a NUL character"),
        ({"id": "ok", "text": "x", "author": "me"}, 422, "author: Extra inputs are not permitted"),
        ({"id": 7, "text": "x"}, 422, "Input should be a valid string"),
        ({"id": "ok", "text": "x" * 600}, 422, "the limit is 500"),
        ([], 422, "the list of articles is empty"),
        ([{"id": "d", "text": "x"}, {"id": "d", "text": "y"}], 422, "id 'd' appears twice"),
        ([{"id": f"n{i}", "text": "x"} for i in range(4)], 422, "4 articles in one write; the limit is 3"),
        ({"id": "faq", "text": "x"}, 409, "FAQ document"),
    ],
)
def test_bad_writes_are_refused_with_a_message_and_change_nothing(
    tmp_path: Path, payload: object, status: int, fragment: str
) -> None:
    import json

    settings = make_settings(tmp_path, max_document_chars=500, max_documents_per_write=3)
    with start(settings) as client:
        if payload == {"id": "faq", "text": "x"}:  # the id of the seeds' FAQ document
            payload = {"id": client.get("/faq").json()["items"][0]["faq_doc_id"], "text": "x"}
        before = texts(client)
        response = client.post(
            "/documents", content=json.dumps(payload), headers={**AUTH, "Content-Type": "application/json"}
        )
        assert response.status_code == status, response.text
        assert fragment in response.json()["detail"]
        assert texts(client) == before
    assert not settings.journal_path().exists()


# ---- consistency ------------------------------------------------------------------------------------
def test_readers_never_see_an_error_during_writes(writable: TestClient) -> None:
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            response = writable.post("/ask", json={"question": "What did Zorblax Industries announce?"})
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text}")
            search = writable.get("/search", params={"q": "Zorblax merger"})
            if search.status_code != 200:
                errors.append(f"{search.status_code} {search.text}")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(6):
            article = {**ZORBLAX, "text": ZORBLAX["text"] + f"\n\nUpdate {round_}: shares rose {round_} percent."}
            assert writable.post("/documents", json=article, headers=AUTH).status_code == 200
            if round_ % 2:
                assert writable.delete("/documents/zorblax-merger", headers=AUTH).status_code == 200
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []


def test_concurrent_writers_are_serialised_and_none_is_lost(settings: Settings, writable: TestClient) -> None:
    results: list[int] = []

    def writer(number: int) -> None:
        article = {"id": f"w{number}", "text": f"Writer {number} filed the report number {number * 7}."}
        results.append(writable.post("/documents", json=article, headers=AUTH).status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 8
    expected = {f"w{n}" for n in range(8)}
    assert expected <= set(texts(writable))
    assert expected <= set(IndexStore.load(settings.index_dir).documents)
    assert sum(1 for e in CorpusJournal(settings.journal_path()).read() if e.op == "put") == 8


def test_a_failed_save_rolls_the_journal_back_and_keeps_serving(
    settings: Settings, writable: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: IndexStore, directory: object) -> None:
        raise OSError(28, "No space left on device")

    writable.post("/documents", json={"id": "first", "text": "The first article is committed."}, headers=AUTH)
    size = settings.journal_path().stat().st_size
    monkeypatch.setattr(IndexStore, "save", disk_full)
    response = writable.post("/documents", json=ZORBLAX, headers=AUTH)
    assert response.status_code == 507 and "No space left" in response.json()["detail"]
    assert settings.journal_path().stat().st_size == size
    assert "zorblax-merger" not in texts(writable) and "first" in texts(writable)
    monkeypatch.undo()
    with start(settings) as restarted:
        assert "zorblax-merger" not in texts(restarted) and "first" in texts(restarted)


def test_reindex_with_an_unreadable_seed_file_is_a_409_and_changes_nothing(
    settings: Settings, writable: TestClient
) -> None:
    before = texts(writable)
    (settings.seeds_dir / "broken.txt").write_bytes(b"\xff\xfe not UTF-8")
    response = writable.post("/reindex", headers=AUTH)
    assert response.status_code == 409
    assert "broken.txt: not UTF-8" in response.json()["detail"]
    assert texts(writable) == before


def test_reindex_compact_shortens_the_journal_without_changing_the_corpus(
    settings: Settings, writable: TestClient
) -> None:
    for revision in range(4):
        article = {**ZORBLAX, "text": ZORBLAX["text"] + f" Revision {revision}."}
        assert writable.post("/documents", json=article, headers=AUTH).status_code == 200
    writable.post("/documents", json={"id": "gone", "text": "Soon deleted."}, headers=AUTH)
    writable.delete("/documents/gone", headers=AUTH)
    writable.delete(f"/documents/{SEED_ARTICLE}", headers=AUTH)
    before = texts(writable)
    assert len(CorpusJournal(settings.journal_path()).read()) == 7
    body = writable.post("/reindex", params={"compact": True}, headers=AUTH).json()
    assert body["journal_records_dropped"] == 5 and body["documents_embedded"] == 0
    entries = CorpusJournal(settings.journal_path()).read()
    assert [(e.op, e.id) for e in entries] == [("put", "zorblax-merger"), ("delete", SEED_ARTICLE)]
    assert texts(writable) == before
    with start(settings) as restarted:
        assert texts(restarted) == before
