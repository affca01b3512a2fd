"""SIGKILL a real ``rag serve`` in the middle of a write or a rebuild; the next start serves the last
committed state (all of a write or none of it) and the next write succeeds."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.store import IndexStore
from tests.conftest import REPO, SEEDS

pytestmark = pytest.mark.integration

KEY = "crash-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
WORDS = "harbour ferry council budget strike vote minister bridge rail festival grain export tariff court".split()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``rag serve`` (hashing embedder) as a child process on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "serve.log"
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "RAG_MODEL": "hashing",
            "RAG_SEEDS_DIR": str(root / "seeds"),
            "RAG_INDEX_DIR": str(root / "index" / "default"),
            "RAG_WRITE_KEYS": KEY,
            "RAG_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)],
                cwd=root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"rag serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError(f"rag serve did not start:\n{self.log.read_text()}")

    def documents(self) -> set[str]:
        return {d["doc_id"] for d in httpx.get(f"{self.url}/documents", timeout=10).json()["documents"]}

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def batch(prefix: str, count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    articles = []
    for number in range(count):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(30)]
        text = "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, 30, 3))
        articles.append({"id": f"{prefix}-{number}", "title": f"{prefix} {number}", "text": text})
    return articles


@pytest.fixture()
def root(tmp_path: Path) -> Iterator[Path]:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    yield tmp_path


def _post_in_background(url: str, **kwargs: object) -> threading.Thread:
    def run() -> None:
        with contextlib.suppress(httpx.TransportError):  # the server is killed under it
            httpx.post(url, headers=AUTH, timeout=120, **kwargs)  # type: ignore[arg-type]

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("fraction", [0.4, 0.9])
def test_sigkill_during_a_write_leaves_all_of_it_or_none(root: Path, fraction: float) -> None:
    server = Server(root)
    try:
        committed = batch("committed", 120, seed=1)
        started = time.perf_counter()
        response = httpx.post(f"{server.url}/documents", json=committed, headers=AUTH, timeout=120)
        duration = time.perf_counter() - started
        assert response.status_code == 200, response.text
        doomed = batch("doomed", 120, seed=2)
        writer = _post_in_background(f"{server.url}/documents", json=doomed)
        time.sleep(duration * fraction)
    finally:
        server.kill()
    writer.join()

    restarted = Server(root)
    try:
        ids = restarted.documents()
        doomed_ids = {a["id"] for a in doomed}
        assert {a["id"] for a in committed} <= ids  # the committed write survived
        present = ids & doomed_ids
        assert present in (set(), doomed_ids), f"{len(present)} of {len(doomed_ids)} articles of the killed write"
        print(f"killed at {fraction:.0%} of a {duration:.2f}s write: {'applied' if present else 'not applied'}")
        # A correctness check, not a timing one: this write takes about 4 s here, near httpx's 5 s default.
        after = httpx.post(
            f"{restarted.url}/documents",
            json={"id": "after", "text": "The next write succeeds."},
            headers=AUTH,
            timeout=60,
        )
        assert after.status_code == 200, after.text
        answer = httpx.post(f"{restarted.url}/ask", json={"question": "Does the next write succeed?"}, timeout=30)
        assert answer.status_code == 200
    finally:
        restarted.kill()
    IndexStore.load(root / "index" / "default")  # what is on disk verifies against its manifest
    final = Server(root)
    try:
        assert "after" in final.documents()
    finally:
        final.kill()


def test_sigkill_during_a_full_rebuild_keeps_a_loadable_index(root: Path) -> None:
    server = Server(root)
    try:
        committed = batch("committed", 200, seed=3)
        assert httpx.post(f"{server.url}/documents", json=committed, headers=AUTH, timeout=120).status_code == 200
        started = time.perf_counter()
        assert httpx.post(f"{server.url}/reindex", params={"full": True}, headers=AUTH, timeout=120).status_code == 200
        duration = time.perf_counter() - started
        rebuild = _post_in_background(f"{server.url}/reindex", params={"full": True})
        time.sleep(duration * 0.6)
    finally:
        server.kill()
    rebuild.join()
    restarted = Server(root)
    try:
        assert {a["id"] for a in committed} <= restarted.documents()
        assert httpx.delete(f"{restarted.url}/documents/committed-0", headers=AUTH).status_code == 200
    finally:
        restarted.kill()
    assert "committed-0" not in IndexStore.load(root / "index" / "default").documents
