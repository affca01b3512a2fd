"""The load benchmark's extra server configurations (``--config``)."""

from __future__ import annotations

import pytest

from benchmarks.load import main, parse_config


def test_a_config_spec_gives_its_label_and_environment() -> None:
    label, env = parse_config("int8 reranker:RAG_RERANK_RUNTIME=onnx-int8, RAG_RERANK_DEPTH=2")
    assert label == "int8 reranker"
    assert env == {"RAG_RERANK_RUNTIME": "onnx-int8", "RAG_RERANK_DEPTH": "2"}


@pytest.mark.parametrize("spec", ["RAG_RERANK_RUNTIME=onnx", "label:", "label:DEPTH=2", ":RAG_X=1", "label:RAG_X"])
def test_a_malformed_config_spec_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="--config takes LABEL:RAG_VAR=VALUE"):
        parse_config(spec)


def test_the_command_line_names_a_malformed_config(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", "no-colon"])
    assert exited.value.code == 2
    assert "--config takes LABEL:RAG_VAR=VALUE,..., got 'no-colon'" in capsys.readouterr().err
