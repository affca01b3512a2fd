from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import check_listen_address, main
from rag import __version__
from tests.conftest import SEEDS


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the CLI with the hashing embedder on the seeds and an index in tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "idx"))
    return tmp_path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"rag {__version__}"


def test_index_then_ask_prints_answer_with_numbered_sources(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "index built at" in out and "4 documents" in out and "1 FAQ document(s) kept apart" in out
    assert main(["index", "--quiet"]) == 0
    assert "index loaded" in capsys.readouterr().out
    assert main(["ask", "When will the meeting of national security advisors take place?"]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "Sources:" in out and "003_6085d973d4879d11 [" in out


def test_ask_json_matches_the_api_shape_and_offsets(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "Who held consultations in the United Arab Emirates?"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) >= {"question", "answer", "abstained", "confidence", "sentences", "citations", "short_answer"}
    for citation in payload["citations"]:
        text = (SEEDS / f"{citation['doc_id']}.txt").read_text(encoding="utf-8")
        assert text[citation["start"] : citation["end"]] == citation["text"]


def test_ask_timings_go_to_stderr_and_leave_the_json_whole(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--timings", "Who held consultations in the United Arab Emirates?"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["question"] == "Who held consultations in the United Arab Emirates?"
    stages = [part.rsplit(" ", 2)[0] for part in captured.err.strip().split(" · ")]
    assert stages == ["encode", "passages", "sentences", "rerank", "compose", "ask"]
    assert float(captured.err.strip().rsplit(" ", 2)[1]) > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "   "], "the question must not be empty"),
        (["ask", "\u200b\ufeff"], "the question must not be empty"),
        (["ask", "x" * 501], "the limit is 500"),
        (["index", "/does/not/exist"], "no such file or directory"),
        (["index", "nul.txt"], "nul.txt: holds a NUL character (at character 7)"),
        (["ask", "--index-dir", "papers", "Who mediates?"], "papers holds other files and no manifest.json"),
        (["index", "--rebuild", "--index-dir", "papers"], "it is left untouched"),
        # The limits of POST /ask; --max-sentences 11 was a ValueError traceback from the composer.
        (["ask", "Who mediates?", "--max-sentences", "11"], "--max-sentences must be between 1 and 10, got 11"),
        (["ask", "Who mediates?", "--top-k", "51"], "--top-k must be between 1 and 50 (RAG_MAX_TOP_K), got 51"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (env / "papers").mkdir()
    (env / "papers" / "notes.txt").write_text("keep me")
    (env / "nul.txt").write_bytes(b"Title\nA\x00B.")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error:") and message in err and "Traceback" not in err
    assert [p.name for p in (env / "papers").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "q", "--top-k", "0"], "must be at least 1"),
        (["serve", "--port", "99999"], "a port is at most 65535, got 99999"),  # was uvicorn's OverflowError
        (["serve", "--port", "http"], "expected a whole number, got 'http'"),
        # An empty path was the current directory: `--index-dir "$UNSET"` built or refused an index there.
        (["ask", "q", "--index-dir", ""], "--index-dir: expected a path, got an empty string"),
        (["index", ""], "expected a path, got an empty string"),
        (["serve", "--index-dir", " "], "--index-dir: expected a path, got an empty string"),
        (["eval", "--gold", ""], "--gold: expected a path, got an empty string"),
    ],
)
def test_bad_option_value_is_a_usage_error(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["ask", "Who mediates?"], ["index"], ["serve", "--port", "8"]])
def test_a_missing_seeds_directory_names_the_setting(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    if argv[0] == "serve":
        monkeypatch.setattr("api.cli.check_listen_address", lambda host, port: None)
    monkeypatch.setenv("RAG_SEEDS_DIR", str(env / "no-seeds-here"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"seeds directory {env / 'no-seeds-here'} (RAG_SEEDS_DIR) does not exist" in err
    assert not (env / "idx").exists()


def test_ask_reads_the_question_from_stdin_given_a_dash(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # "-" was asked as the question itself, and abstained on.
    monkeypatch.setattr("sys.stdin", io.StringIO("How many Ukrainians does Kyiv expect to free?\n"))
    assert main(["ask", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["question"] == "How many Ukrainians does Kyiv expect to free?"
    monkeypatch.setattr("sys.stdin", io.StringIO(" \n"))
    assert main(["ask", "-"]) == 2
    assert "the question must not be empty" in capsys.readouterr().err


@pytest.fixture()
def busy_port() -> Iterator[int]:
    """A loopback port another socket is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("127.0.0.1", "is already in use (choose another with --port or RAG_PORT)"),
        ("999.1.1.1", "cannot listen on host '999.1.1.1'"),  # was a log line after the models had loaded
        ("192.0.2.1", "192.0.2.1 is not an address of this machine"),  # TEST-NET-1, never local
    ],
)
def test_serve_refuses_an_address_it_cannot_listen_on_before_loading_anything(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    busy_port: int,
    host: str,
    message: str,
) -> None:
    def must_not_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was opened before the address was checked")

    monkeypatch.setattr("rag.pipeline.build_pipeline", must_not_build)
    assert main(["serve", "--host", host, "--port", str(busy_port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error: cannot listen on") and message in err
    assert not (env / "idx").exists()


def test_serve_address_check_accepts_a_free_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as finder:
        finder.bind(("127.0.0.1", 0))
        free = int(finder.getsockname()[1])
    check_listen_address("127.0.0.1", free)


def test_invalid_setting_exits_2_naming_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_MAX_SENTENCES", "many")
    assert main(["config"]) == 2
    assert "RAG_MAX_SENTENCES" in capsys.readouterr().err


def test_config_prints_settings_with_secrets_masked(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_API_KEYS", "top-secret")
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    assert "top-secret" not in out
    assert json.loads(out)["api_keys"] == ["****"]
    assert main(["config"]) == 0
    assert "RAG_MODEL" in capsys.readouterr().out


def test_index_refuses_an_index_built_with_another_model(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "--quiet"]) == 0
    monkeypatch.setenv("RAG_MODEL", "hashing-128")
    assert main(["index", "--quiet"]) == 2
    assert "rag index --rebuild" in capsys.readouterr().err
    assert main(["index", "--quiet", "--rebuild"]) == 0


def test_the_short_answer_comes_first_and_a_partial_answer_says_so() -> None:
    from rag.answer import Answer, AnswerSentence, Citation, ShortAnswer
    from rag.commands import format_answer

    citation = Citation(1, "d1", "Talks", None, None, "The talks resume on May 16.", 10, 37, 0.9)
    answer = Answer(
        "When do the talks resume?",
        "The talks resume on May 16. [1]",
        False,
        0.41,
        (AnswerSentence("The talks resume on May 16.", (1,)),),
        (citation,),
        short_answer=ShortAnswer("May 16", "d1", 30, 36),
        support="answer",
    )
    lines = format_answer(answer).splitlines()
    assert lines[0] == "Short answer: May 16  (d1 [30:36])"
    assert lines[2] == "The talks resume on May 16. [1]"
    partial = format_answer(Answer("q", "x [1]", False, 0.27, (), (citation,), support="partial"))
    assert partial.splitlines()[0] == "x [1]" and "confidence: 0.27  (partial answer)" in partial


def test_a_mistyped_variable_is_warned_about_and_the_command_still_runs(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_TOPK", "3")
    assert main(["ask", "Who mediates the exchanges?"]) == 0
    assert "RAG_TOPK is not a setting; did you mean RAG_TOP_K? (ignored)" in capsys.readouterr().err
