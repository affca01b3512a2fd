from __future__ import annotations

import pytest

from rag.config import Settings, SettingsError, load_settings


def test_environment_variables_with_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "5")
    monkeypatch.setenv("RAG_FUSION", "rrf")
    monkeypatch.setenv("RAG_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("RAG_LOG_LEVEL", "debug")
    settings = load_settings(_env_file=None)
    assert (settings.top_k, settings.fusion, settings.log_level) == (5, "rrf", "DEBUG")
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.retrieval().fusion == "rrf"


def test_env_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("RAG_MAX_SENTENCES=2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert Settings().max_sentences == 2


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAG_TOP_K", "0", "RAG_TOP_K: Input should be greater than or equal to 1"),
        ("RAG_FUSION", "max", "RAG_FUSION: Input should be"),
        ("RAG_PORT", "http", "RAG_PORT: Input should be a valid integer"),
        ("RAG_ABSTAIN_THRESHOLD", "1.5", "RAG_ABSTAIN_THRESHOLD"),
        ("RAG_PASSAGE_OVERLAP", "3", "RAG_PASSAGE_OVERLAP (3) must be less than RAG_PASSAGE_SENTENCES (3)"),
        ("RAG_ANN", "annoy", "RAG_ANN: Input should be 'auto', 'flat', 'hnsw' or 'ivf'"),
        ("RAG_QUANTIZE", "pq", "RAG_QUANTIZE: Input should be 'none' or 'sq8'"),
        ("RAG_ANN_THRESHOLD", "0", "RAG_ANN_THRESHOLD: Input should be greater than or equal to 1"),
        ("RAG_HNSW_M", "2", "RAG_HNSW_M: Input should be greater than or equal to 4"),
        ("RAG_HNSW_EF_SEARCH", "many", "RAG_HNSW_EF_SEARCH: Input should be a valid integer"),
        ("RAG_RERANK_RUNTIME", "gpu", "RAG_RERANK_RUNTIME: Input should be 'auto', 'torch', 'onnx' or 'onnx-int8'"),
        ("RAG_INDEX_DIR", "", "RAG_INDEX_DIR: expected a path, got an empty string"),
        ("RAG_SEEDS_DIR", " ", "RAG_SEEDS_DIR: expected a path, got an empty string"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(_env_file=None)


def test_an_empty_optional_path_setting_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CORPUS_JOURNAL", "")
    monkeypatch.setenv("RAG_ONNX_DIR", " ")
    monkeypatch.setenv("RAG_INDEX_DIR", "/srv/rag/idx")
    settings = load_settings(_env_file=None)
    assert (settings.corpus_journal, settings.onnx_dir) == (None, None)
    assert settings.journal_path().name == "idx.writes.jsonl"  # not "./.writes.jsonl" beside the current directory


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_API_KEYS", "s3cret-one,s3cret-two")
    settings = load_settings(_env_file=None)
    assert [k.get_secret_value() for k in settings.api_keys] == ["s3cret-one", "s3cret-two"]
    assert settings.masked()["api_keys"] == ["****", "****"]
    assert "s3cret" not in repr(settings)


def test_large_corpus_settings_reach_the_index_and_retrieval(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "RAG_ANN": "hnsw",
        "RAG_ANN_THRESHOLD": "5000",
        "RAG_HNSW_M": "24",
        "RAG_QUANTIZE": "sq8",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(_env_file=None)
    ann = settings.ann_params()
    assert (ann.kind, ann.threshold, ann.hnsw_m, ann.quantize, ann.hnsw_ef_search) == ("hnsw", 5000, 24, "sq8", 128)
    assert settings.retrieval().large_corpus == 5000


def test_ivf_nprobe_cannot_exceed_nlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_IVF_NLIST", "8")
    monkeypatch.setenv("RAG_IVF_NPROBE", "16")
    with pytest.raises(SettingsError, match=r"RAG_IVF_NPROBE \(16\) cannot exceed RAG_IVF_NLIST \(8\)"):
        load_settings(_env_file=None)


def test_the_postgres_store_builds_a_flat_index_since_pgvector_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_STORE", "postgres")
    monkeypatch.setenv("RAG_DATABASE_URL", "postgresql://u:p@127.0.0.1/db")
    monkeypatch.setenv("RAG_ANN", "hnsw")
    assert load_settings(_env_file=None).ann_params().kind == "flat"


@pytest.mark.parametrize(
    ("encoder", "rerank_runtime", "expected"),
    [
        ("onnx", "auto", "onnx"),
        ("onnx-int8", "auto", "onnx"),
        ("torch", "auto", "torch"),
        ("torch", "onnx-int8", "onnx-int8"),
        ("onnx", "torch", "torch"),
    ],
)
def test_the_reranker_runs_where_the_settings_say(
    monkeypatch: pytest.MonkeyPatch, encoder: str, rerank_runtime: str, expected: str
) -> None:
    from rag.pipeline import make_reranker
    from rag.reranker import CrossEncoderReranker

    monkeypatch.setenv("RAG_ENCODER", encoder)
    monkeypatch.setenv("RAG_RERANK_RUNTIME", rerank_runtime)
    reranker = make_reranker(load_settings(_env_file=None))
    assert isinstance(reranker, CrossEncoderReranker) and reranker.runtime == expected


def test_unknown_rag_variables_are_named_with_the_closest_setting() -> None:
    from rag.config import unknown_variables

    environ = {
        "RAG_TOPK": "3",
        "RAG_CHUNK_PASSAGE_SENTENCES": "2",
        "RAG_ZZZ": "1",
        "RAG_TOP_K": "5",
        "RAG_TEST_DATABASE_URL": "postgresql://x",
        "RAG_PG_PORT": "5433",
        "HOME": "/root",
    }
    assert unknown_variables(environ) == [
        "RAG_CHUNK_PASSAGE_SENTENCES is not a setting; did you mean RAG_PASSAGE_SENTENCES?",
        "RAG_TOPK is not a setting; did you mean RAG_TOP_K?",
        "RAG_ZZZ is not a setting",
    ]
