"""End to end: the real service (real model, uvicorn subprocess) driven by headless Chromium.

Skipped when Chromium or Playwright is missing. Timings and screenshot paths are printed (run with
``-s`` to see them). ``docs/faq-page.png`` is made by ``scripts/screenshot_faq.py`` over the plain seeds,
since the corpus here carries a test article.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.answer import ABSTAIN_MESSAGE
from scripts.screenshot_faq import CHROMIUM_ARGS
from tests.conftest import SEEDS

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
XSS = "<script>window.__xss = 1</script>"
MARKUP_ARTICLE = f"""Port Quill lighthouse notice quotes {XSS} snippet

Test Wire

The harbour lighthouse in Port Quill was repainted bright blue in March, the town council said.

A council notice quoted the snippet {XSS} that a prankster typed into the lighthouse booking form.

The lighthouse keeper, Ada Morrow, said the new paint should last for ten years.
"""
MARKUP_QUESTION = "What did the prankster type into the lighthouse booking form?"
ANSWERABLE = "How many Ukrainians does Kyiv hope to free?"
UNANSWERABLE = "What is the population of Canada?"
STARTUP_TIMEOUT = 300.0
TIMINGS: dict[str, float] = {}


def _require_browser() -> None:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (looked for `chromium` on PATH and /usr/bin/chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real service over the seeds plus an article with markup in it; yields its base URL."""
    _require_browser()
    work = tmp_path_factory.mktemp("faq-service")
    seeds = work / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "zz_markup_test.txt").write_text(MARKUP_ARTICLE, encoding="utf-8")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAG_")}
    env.update(
        RAG_SEEDS_DIR=str(seeds),
        RAG_INDEX_DIR=str(work / "index"),
        RAG_API_KEYS="",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    log_path = work / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        while True:
            if process.poll() is not None:
                pytest.fail(f"the service exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > STARTUP_TIMEOUT:
                pytest.fail(f"the service did not start in {STARTUP_TIMEOUT:.0f}s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        TIMINGS["service_start_s"] = time.perf_counter() - started
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(service: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium context with a fresh profile, desktop-sized."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture()
def page(browser: Any, service: str) -> Iterator[Any]:
    """A fresh tab; fails the test if the page requests anything outside the service or logs an error."""
    tab = browser.new_page()
    foreign: list[str] = []
    errors: list[str] = []
    tab.on("request", lambda r: None if r.url.startswith((service, "data:")) else foreign.append(r.url))
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    tab.close()
    assert not foreign, f"the page reached outside the service: {foreign}"
    assert not errors, f"JavaScript errors: {errors}"


def _faq(service: str) -> dict[str, Any]:
    response = httpx.get(service + "/faq", timeout=120)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _ask(service: str, question: str) -> httpx.Response:
    return httpx.post(service + "/ask", json={"question": question}, timeout=60)


def _submit(page: Any, question: str) -> float:
    """Type and submit a question; returns the seconds until a result (answer or problem) is shown."""
    page.get_by_label("Your question").fill(question)
    started = time.perf_counter()
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator("#ask-result > *").first.wait_for(state="visible")
    return time.perf_counter() - started


def _navigation_timing(page: Any) -> dict[str, float]:
    timing: dict[str, float] = page.evaluate("""() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        return {response_end_ms: nav.responseEnd, dom_content_loaded_ms: nav.domContentLoadedEventEnd,
                load_ms: nav.loadEventEnd, first_contentful_paint_ms: paint ? paint.startTime : -1};
    }""")
    return timing


def test_page_shows_the_faq_with_answers_and_markers(page: Any, service: str) -> None:
    started = time.perf_counter()
    page.goto(service + "/", wait_until="load", timeout=180_000)  # first view: composes the FAQ answers
    page.locator(".faq-list .qa").first.wait_for(state="visible")
    cold = time.perf_counter() - started
    cold_timing = _navigation_timing(page)
    started = time.perf_counter()
    page.reload(wait_until="load")
    page.locator(".faq-list .qa").first.wait_for(state="visible")
    warm = time.perf_counter() - started
    warm_timing = _navigation_timing(page)
    TIMINGS.update(page_load_cold_s=cold, page_load_warm_s=warm)
    print(f"\nservice start (real model, index build): {TIMINGS['service_start_s']:.2f}s")
    print(f"page load, first view (FAQ composed): {cold * 1000:.0f} ms wall; navigation {json.dumps(cold_timing)}")
    print(f"page load, cached FAQ: {warm * 1000:.0f} ms wall; navigation {json.dumps(warm_timing)}")

    faq = _faq(service)
    items = faq["items"]
    assert len(items) == 8
    assert page.locator(".qa-question").all_text_contents() == [item["question"] for item in items]
    for number, item in enumerate(items, start=1):
        card = page.locator(f"#faq-{number}")
        if item["abstained"]:
            assert card.locator(".answer--abstained").is_visible()
            assert ABSTAIN_MESSAGE in card.locator(".answer--abstained").inner_text()
            assert card.locator("button.cite").count() == 0
        else:
            assert card.locator(".answer-text").is_visible()
            for sentence in item["sentences"]:
                assert sentence["text"] in card.locator(".answer-text").inner_text()
            expected = [f"[{cid}]" for s in item["sentences"] for cid in s["citations"]]
            assert card.locator("button.cite").all_text_contents() == expected
            # A partial answer says so; a confident one does not.
            assert card.locator(".partial-note").count() == (1 if item["support"] == "partial" else 0)
            if item["short_answer"]:
                assert card.locator(".short-answer strong").text_content() == item["short_answer"]["text"]
    assert sum(not item["abstained"] for item in items) >= 7
    assert any(item["support"] == "partial" for item in items)


def test_opening_a_citation_highlights_the_cited_sentence(
    page: Any, service: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page.goto(service + "/")
    items = _faq(service)["items"]
    number, item = next((n, i) for n, i in enumerate(items, start=1) if not i["abstained"])
    card = page.locator(f"#faq-{number}")
    marker = card.locator("button.cite").first
    citation = next(c for c in item["citations"] if f"[{c['id']}]" == marker.text_content())
    panel = card.locator(".cite-panel")
    assert panel.is_hidden()

    marker.click()
    mark = panel.locator("mark")
    mark.wait_for(state="visible")
    assert marker.get_attribute("aria-expanded") == "true"
    assert mark.text_content() == citation["text"]
    assert panel.locator(".cite-title").text_content() == citation["title"]
    context = panel.locator(".cite-context").text_content() or ""
    assert citation["text"] in context and len(context) > len(citation["text"])  # shown in context
    document = httpx.get(f"{service}/documents/{citation['doc_id']}", timeout=30).json()
    assert document["text"][citation["start"] : citation["end"]] == mark.text_content()

    panel.get_by_role("button", name="Show the whole article").click()
    assert panel.locator("mark").text_content() == citation["text"]
    assert len(panel.locator(".cite-context").text_content() or "") >= len(context)
    panel.get_by_role("button", name="Show less").click()

    path = Path(str(tmp_path_factory.getbasetemp())) / "faq-page-desktop.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\ndesktop screenshot with a citation open: {path}")

    # Clicking again closes it; the keyboard opens it on focus and closes it with Escape.
    marker.click()
    assert panel.is_hidden() and marker.get_attribute("aria-expanded") == "false"
    card.locator(".qa-question").click()  # sets the focus navigation start point just before the answer
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.cite") == str(citation["id"])
    panel.locator("mark").wait_for(state="visible")
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert page.evaluate("document.activeElement.dataset.cite") == str(citation["id"])
    page.keyboard.press("Enter")
    panel.locator("mark").wait_for(state="visible")
    assert panel.locator("mark").text_content() == citation["text"]


def test_asking_a_question_renders_the_answer(page: Any, service: str) -> None:
    page.goto(service + "/")
    expected = _ask(service, ANSWERABLE).json()
    assert not expected["abstained"]
    elapsed = _submit(page, ANSWERABLE)
    result = page.locator("#ask-result")
    in_page_ms = float(result.get_attribute("data-elapsed-ms") or "nan")
    TIMINGS["first_answer_s"] = elapsed
    print(
        f"\ntime to first answer (submit -> answer rendered): {elapsed * 1000:.0f} ms wall, "
        f"{in_page_ms:.0f} ms measured in the page (performance.now)"
    )
    assert result.locator(".qa-question").text_content() == ANSWERABLE
    assert expected["short_answer"] is not None  # a "how many" question: the number, in bold, first
    assert result.locator(".short-answer strong").text_content() == expected["short_answer"]["text"]
    text = result.locator(".answer-text").inner_text()
    for sentence in expected["sentences"]:
        assert sentence["text"] in text
    markers = result.locator("button.cite")
    assert markers.count() == sum(len(s["citations"]) for s in expected["sentences"])
    assert result.get_attribute("aria-busy") == "false" and page.locator("#ask-status").is_hidden()

    markers.first.click()
    mark = result.locator(".cite-panel mark")
    mark.wait_for(state="visible")
    first = next(c for c in expected["citations"] if f"[{c['id']}]" == markers.first.text_content())
    assert mark.text_content() == first["text"]


def test_unanswerable_question_shows_the_abstention(page: Any, service: str) -> None:
    page.goto(service + "/")
    _submit(page, UNANSWERABLE)
    abstained = page.locator("#ask-result .answer--abstained")
    assert abstained.is_visible()
    assert ABSTAIN_MESSAGE in abstained.inner_text()
    assert page.locator("#ask-result button.cite").count() == 0


def test_markup_in_articles_and_questions_stays_text(page: Any, service: str) -> None:
    page.goto(service + "/")
    # Server-rendered: the article's title (with a script tag in it) is listed as text.
    assert f"Port Quill lighthouse notice quotes {XSS} snippet" in page.locator(".article-list").inner_text()

    answer = _ask(service, MARKUP_QUESTION).json()
    cited = next(c for c in answer["citations"] if XSS in c["text"])
    _submit(page, MARKUP_QUESTION)
    result = page.locator("#ask-result")
    assert XSS in result.locator(".answer-text").inner_text()
    result.locator(f"button.cite[data-cite='{cited['id']}']").click()
    mark = result.locator(".cite-panel mark")
    mark.wait_for(state="visible")
    assert mark.text_content() == cited["text"]
    assert XSS in (result.locator(".cite-title").text_content() or "")

    question = XSS + '<img src="x" onerror="window.__xss = 2">'
    _submit(page, question)
    assert result.locator(".qa-question").text_content() == question
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('__xss'))") is False
    assert page.locator("img").count() == 0


def test_loading_state_is_shown_while_searching(page: Any, service: str) -> None:
    held: list[Any] = []
    page.route("**/ask", lambda route: held.append(route))
    page.goto(service + "/")
    page.get_by_label("Your question").fill(ANSWERABLE)
    page.get_by_role("button", name="Ask", exact=True).click()
    status = page.locator("#ask-status")
    status.wait_for(state="visible")
    assert status.inner_text().strip() == "Searching the articles…"
    assert page.locator("#ask-result").get_attribute("aria-busy") == "true"
    for _ in range(100):  # route handlers run while the test waits on the page
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the request should be held by the test"
    held[0].continue_()
    page.locator("#ask-result .answer").wait_for(state="visible")
    assert status.is_hidden() and page.locator("#ask-result").get_attribute("aria-busy") == "false"


def test_rejected_question_shows_the_service_detail(page: Any, service: str) -> None:
    page.goto(service + "/")
    long_question = "Why " + "x" * 596
    detail = _ask(service, long_question).json()["detail"]
    assert "600 characters" in detail
    _submit(page, long_question)
    problem = page.locator("#ask-result .problem--rejected")
    assert problem.is_visible()
    assert detail in problem.inner_text()

    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/ask") else None)
    _submit(page, "   ")
    assert "Type a question first." in page.locator("#ask-result .problem").inner_text()
    assert asked == []  # a blank question is caught before any request


def test_unreachable_service_shows_a_message(page: Any, service: str) -> None:
    page.route("**/ask", lambda route: route.abort("connectionrefused"))
    page.goto(service + "/")
    _submit(page, ANSWERABLE)
    problem = page.locator("#ask-result .problem--offline")
    assert problem.is_visible()
    assert "could not be reached" in problem.inner_text()
    assert page.get_by_role("button", name="Ask", exact=True).is_enabled()


def test_phone_width_layout(browser: Any, service: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    tab = browser.new_page()
    try:
        tab.set_viewport_size({"width": 390, "height": 844})
        tab.goto(service + "/")
        card = tab.locator("#faq-1")
        marker = card.locator("button.cite")
        if marker.count():
            marker.first.click()
            card.locator(".cite-panel mark").wait_for(state="visible")
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        path = tmp_path_factory.getbasetemp() / "faq-page-phone.png"
        tab.screenshot(path=str(path), full_page=True)
        print(f"\nphone screenshot: {path}")
    finally:
        tab.close()
