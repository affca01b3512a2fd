from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.pipeline import QAPipeline
from tests.conftest import assert_citations_verbatim


def documents(client: TestClient) -> dict[str, str]:
    listing = client.get("/documents").json()["documents"]
    return {d["doc_id"]: client.get(f"/documents/{d['doc_id']}").json()["text"] for d in listing}


def test_ask_returns_cited_sentences(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "When is the meeting of Chiefs of the General Staff?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "question",
        "answer",
        "abstained",
        "confidence",
        "support",
        "answer_type",
        "short_answer",
        "sentences",
        "citations",
    }
    assert not body["abstained"] and body["sentences"]
    assert body["answer_type"] == "date" and body["support"] in {"answer", "partial"}
    assert "January 5" in body["sentences"][0]["text"]
    short = body["short_answer"]
    assert short is not None and "January 5" in short["text"]
    assert documents(client)[short["doc_id"]][short["start"] : short["end"]] == short["text"]
    ids = [c["id"] for c in body["citations"]]
    assert sorted(i for s in body["sentences"] for i in s["citations"]) == ids
    assert_citations_verbatim(body, documents(client))


def test_ask_honours_max_sentences(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "prisoner exchanges Istanbul Umerov", "max_sentences": 1}).json()
    assert len(body["sentences"]) == 1


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"question": ""}, "question: question must not be empty"),
        ({"question": " \n\t"}, "question: question must not be empty"),
        ({"question": 42}, "question: Input should be a valid string"),
        ({}, "question: Field required"),
        ({"question": "q", "top_k": 0}, "top_k: Input should be greater than or equal to 1"),
        ({"question": "q", "top_k": 51}, "top_k must be between 1 and 50"),
        ({"question": "q", "top_k": "many"}, "top_k: Input should be a valid integer"),
        ({"question": "q", "max_sentences": 11}, "max_sentences: Input should be less than or equal to 10"),
        ({"question": "q", "topk": 3}, "topk: Extra inputs are not permitted"),
        ({"question": "x" * 501}, "question is 501 characters long; the limit is 500"),
        (["a list"], "Input should be a valid dictionary"),
    ],
)
def test_ask_rejects_bad_input_with_a_4xx_that_names_the_problem(
    client: TestClient, payload: object, fragment: str
) -> None:
    response = client.post("/ask", json=payload)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_ask_rejects_malformed_json(client: TestClient) -> None:
    response = client.post("/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_search_ranks_passages_with_offsets(client: TestClient) -> None:
    body = client.get("/search", params={"q": "Coalition of the Willing leaders meeting", "k": 3}).json()
    assert body["k"] == 3 and len(body["hits"]) == 3
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3]
    assert "Coalition of the Willing" in body["hits"][0]["text"]
    texts = documents(client)
    for hit in body["hits"]:
        assert texts[hit["doc_id"]][hit["start"] : hit["end"]] == hit["text"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "q: Field required"),
        ({"q": "  "}, "q must not be empty"),
        ({"q": "x", "k": 0}, "k: Input should be greater than or equal to 1"),
        ({"q": "x", "k": 51}, "k must be between 1 and 50"),
        ({"q": "x", "k": "ten"}, "k: Input should be a valid integer"),
        ({"q": "x" * 501}, "the limit is 500"),
    ],
)
def test_search_rejects_bad_input(client: TestClient, params: dict[str, object], fragment: str) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_documents_list_and_full_text(client: TestClient, fake_pipeline: QAPipeline) -> None:
    listing = client.get("/documents").json()["documents"]
    assert [d["doc_id"] for d in listing] == sorted(fake_pipeline.store.documents)
    one = client.get("/documents/001_da2890c1c1429775").json()
    assert one["source"] == "Reuters" and one["text"] == fake_pipeline.store.documents["001_da2890c1c1429775"].text
    assert one["chars"] == len(one["text"])


def test_unknown_document_is_a_404_naming_it(client: TestClient) -> None:
    response = client.get("/documents/no-such-doc")
    assert response.status_code == 404
    assert response.json()["detail"] == "no document with id 'no-such-doc'"


def test_faq_document_is_not_served_as_an_article(client: TestClient) -> None:
    assert client.get("/documents/004_286debfea32733cf").status_code == 404


def test_health_reports_model_manifest_and_counts(client: TestClient, fake_pipeline: QAPipeline) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["model"] == "hashing-256"
    assert body["documents"] == 4 and body["passages"] == len(fake_pipeline.store.passages)
    assert body["index"]["corpus_fingerprint"] == fake_pipeline.store.manifest["corpus_fingerprint"]


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/ask", "/search", "/documents", "/documents/{doc_id}", "/health"} <= set(paths)


def test_unknown_route_and_method_are_4xx(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/ask").status_code == 405


def test_api_keys_guard_the_question_endpoints(fake_settings: Settings, fake_pipeline: QAPipeline) -> None:
    settings = fake_settings.model_copy(
        update={"api_keys": [s for s in Settings(api_keys="k-123", _env_file=None).api_keys]}
    )  # type: ignore[call-arg]
    with TestClient(create_app(settings, pipeline=fake_pipeline)) as guarded:
        assert guarded.post("/ask", json={"question": "Istanbul?"}).status_code == 401
        wrong = guarded.post("/ask", json={"question": "Istanbul?"}, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 403 and wrong.json()["detail"] == "invalid API key"
        assert guarded.post("/ask", json={"question": "Istanbul?"}, headers={"X-API-Key": "k-123"}).status_code == 200
        assert guarded.get("/documents").status_code == 401
        assert guarded.get("/health").status_code == 200


def test_unexpected_errors_are_a_clean_500_without_traceback(
    fake_settings: Settings, fake_pipeline: QAPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    app = create_app(fake_settings, pipeline=fake_pipeline)
    monkeypatch.setattr(fake_pipeline, "ask", broken)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.post("/ask", json={"question": "anything"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; see the service log"}


def test_a_store_failure_during_a_request_is_a_503_naming_the_database(
    fake_settings: Settings, fake_pipeline: QAPipeline
) -> None:
    from dataclasses import replace

    import numpy as np

    from rag.stores.postgres import DatabaseError

    def down(vector: np.ndarray, k: int) -> tuple[list[float], list[int]]:
        raise DatabaseError("cannot use the database at RAG_DATABASE_URL=postgresql://u:****@db/rag: server closed")

    broken = fake_pipeline.with_store(replace(fake_pipeline.store, searcher=down))
    with TestClient(create_app(fake_settings, pipeline=broken)) as client:
        for response in (client.get("/search", params={"q": "Kyiv"}), client.post("/ask", json={"question": "Kyiv?"})):
            assert response.status_code == 503
            assert "RAG_DATABASE_URL=postgresql://u:****@db/rag" in response.json()["detail"]
        assert client.get("/health").status_code == 200
