"""``GET /faq`` (cached FAQ answers) and ``GET /`` (the reader's page), over the hashing-embedder index."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import api
from api.main import create_app
from api.routes import pages
from api.routes.ask import answer_public
from api.routes.faq import faq_answers
from api.schemas import AskResponse
from rag.answer import ABSTAIN_MESSAGE
from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.faq import FaqDocument, FaqPair
from rag.pipeline import QAPipeline, build_pipeline
from tests.conftest import SEEDS, assert_citations_verbatim

SCRIPT_QUESTION = '<script>alert("faq")</script> What did Umerov agree in Istanbul?'


def _questions(pipeline: QAPipeline) -> list[str]:
    return [pair.question for faq in pipeline.faq for pair in faq.pairs]


class _PageParser(HTMLParser):
    """Collects what the tests look at: question headings, citation markers, external resources."""

    def __init__(self) -> None:
        super().__init__()
        self.questions: list[str] = []
        self.markers: list[dict[str, str | None]] = []
        self.resources: list[str] = []
        self._in_question = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "h3" and "qa-question" in classes:
            self._in_question = True
            self.questions.append("")
        if tag == "button" and "cite" in classes and "data-cite" in attributes:
            self.markers.append(attributes)
        if tag in ("script", "link", "img", "iframe") and (attributes.get("src") or attributes.get("href")):
            self.resources.append(str(attributes.get("src") or attributes.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3":
            self._in_question = False

    def handle_data(self, data: str) -> None:
        if self._in_question:
            self.questions[-1] += data


def _parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


def test_faq_answers_every_question(client: TestClient, fake_pipeline: QAPipeline) -> None:
    response = client.get("/faq")
    assert response.status_code == 200
    body = response.json()
    items = body["items"]
    assert len(items) == 8
    assert [item["question"] for item in items] == _questions(fake_pipeline)
    assert [item["reference_answer"] for item in items] == [p.answer for f in fake_pipeline.faq for p in f.pairs]
    assert body["corpus_fingerprint"] == fake_pipeline.store.manifest["corpus_fingerprint"]
    assert body["built_at"] == fake_pipeline.store.manifest["built_at"]
    for item in items:
        # The composed answer has exactly the shape (and content) /ask gives for the question.
        expected = answer_public(fake_pipeline.ask(item["question"])).model_dump(mode="json")
        assert {key: item[key] for key in expected} == expected
        if item["abstained"]:
            assert item["answer"] == ABSTAIN_MESSAGE
            assert item["citations"] == [] and item["sentences"] == []
        else:
            ids = {c["id"] for c in item["citations"]}
            assert item["sentences"] and all(set(s["citations"]) <= ids and s["citations"] for s in item["sentences"])
    assert any(not item["abstained"] for item in items)


def test_faq_citations_are_verbatim(client: TestClient) -> None:
    items = client.get("/faq").json()["items"]
    doc_ids = {c["doc_id"] for item in items for c in item["citations"]}
    assert doc_ids, "expected at least one cited document"
    documents = {doc_id: client.get(f"/documents/{doc_id}").json()["text"] for doc_id in doc_ids}
    for item in items:
        assert_citations_verbatim(item, documents)


def test_faq_is_computed_once_and_cached(client: TestClient, fake_pipeline: QAPipeline, ask_calls: list[str]) -> None:
    first = client.get("/faq").json()
    assert ask_calls == _questions(fake_pipeline)
    assert client.get("/faq").json() == first
    assert client.get("/").status_code == 200
    assert len(ask_calls) == 8  # neither the second /faq nor the page recomputed anything
    state = client.app.state  # type: ignore[attr-defined]
    assert faq_answers(state, fake_pipeline) is faq_answers(state, fake_pipeline)


def test_faq_is_recomputed_when_the_index_is_rebuilt(
    client: TestClient, fake_pipeline: QAPipeline, ask_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = client.get("/faq").json()
    monkeypatch.setitem(fake_pipeline.store.manifest, "built_at", "2099-01-01T00:00:00+00:00")
    after = client.get("/faq").json()
    assert len(ask_calls) == 16
    assert after["built_at"] == "2099-01-01T00:00:00+00:00" != before["built_at"]
    client.get("/faq")
    assert len(ask_calls) == 16


@pytest.fixture()
def other_pipeline(tmp_path: Path) -> QAPipeline:
    """The seeds plus one more article, indexed with the hashing embedder."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "zz_extra.txt").write_text(
        "Lighthouse repainted in Port Quill\n\nThe harbour lighthouse in Port Quill was repainted blue in March.\n",
        encoding="utf-8",
    )
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", _env_file=None)  # type: ignore[call-arg]
    return build_pipeline(settings, embedder=HashingEmbedder())


def test_faq_follows_a_new_pipeline(client: TestClient, fake_pipeline: QAPipeline, other_pipeline: QAPipeline) -> None:
    before = client.get("/faq").json()
    client.app.state.pipeline = other_pipeline  # type: ignore[attr-defined]  # as a reload would do
    after = client.get("/faq").json()
    assert after["corpus_fingerprint"] == other_pipeline.store.manifest["corpus_fingerprint"]
    assert after["corpus_fingerprint"] != before["corpus_fingerprint"]
    assert after["computed_at"] >= before["computed_at"]
    assert [item["question"] for item in after["items"]] == _questions(other_pipeline)


def test_page_shows_the_faq_with_answers_and_markers(client: TestClient, fake_pipeline: QAPipeline) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    page = _parse(html)
    assert page.questions == _questions(fake_pipeline)
    items = client.get("/faq").json()["items"]
    assert html.count(ABSTAIN_MESSAGE) >= sum(item["abstained"] for item in items)
    expected_markers = [
        (c["id"], c["doc_id"], c["start"], c["end"], c["text"])
        for item in items
        for s in item["sentences"]
        for cid in s["citations"]
        for c in item["citations"]
        if c["id"] == cid
    ]
    found = [
        (int(str(m["data-cite"])), m["data-doc-id"], int(str(m["data-start"])), int(str(m["data-end"])), m["data-text"])
        for m in page.markers
    ]
    assert found == expected_markers
    assert '<meta name="viewport"' in html
    assert '<label for="question"' in html and 'aria-live="polite"' in html
    # Works offline: every resource comes from this app.
    assert page.resources and all(r.startswith("/static/") or r.startswith("data:") for r in page.resources)
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200


def test_page_escapes_markup_in_questions_and_answers(
    client: TestClient, fake_pipeline: QAPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = FaqPair(SCRIPT_QUESTION, "<b>Istanbul</b> & <i>more</i>", 0, 60)
    monkeypatch.setattr(fake_pipeline, "faq", [FaqDocument("faq_markup", "summary", (pair,))])
    html = client.get("/").text
    assert "<script>alert" not in html and "<b>Istanbul" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;b&gt;Istanbul&lt;/b&gt; &amp; " in html
    assert _parse(html).questions == [SCRIPT_QUESTION]
    assert client.get("/faq").json()["items"][0]["question"] == SCRIPT_QUESTION


@pytest.fixture()
def keyed_client(fake_settings: Settings, fake_pipeline: QAPipeline) -> Iterator[TestClient]:
    settings = fake_settings.model_copy(update={"api_keys": [SecretStr("secret-key")]})
    with TestClient(create_app(settings, pipeline=fake_pipeline)) as test_client:
        yield test_client


def test_page_and_faq_need_no_api_key(keyed_client: TestClient) -> None:
    for path in ("/", "/faq", "/static/app.js", "/static/style.css"):
        assert keyed_client.get(path).status_code == 200, path
    # The page's own calls to /ask and /documents still need a key when keys are configured.
    assert keyed_client.post("/ask", json={"question": "Who is Umerov?"}).status_code == 401


def test_templates_and_static_files_ship_as_package_data() -> None:
    package = Path(api.__file__).resolve().parent
    templates, static = package / "templates", package / "static"
    assert templates == pages.TEMPLATES_DIR
    assert static == pages.STATIC_DIR
    for folder, names in ((pages.TEMPLATES_DIR, {"index.html"}), (pages.STATIC_DIR, {"app.js", "style.css"})):
        files = list(folder.iterdir())
        assert names <= {f.name for f in files}
        # pyproject's package-data globs ("templates/*", "static/*") do not descend into folders.
        assert all(f.is_file() for f in files), f"{folder} must stay flat"


def test_the_library_answer_data_is_exactly_the_api_response(fake_pipeline: QAPipeline) -> None:
    from rag.serialize import answer_to_dict

    for question in ("How many Ukrainians does Kyiv hope to free?", "What is the population of Canada?"):
        answer = fake_pipeline.ask(question)
        data = answer_to_dict(answer)
        assert answer_public(answer).model_dump(mode="json") == data
        assert list(data) == list(AskResponse.model_fields)
