"""All settings in one typed object, read from ``RAG_*`` environment variables and ``.env``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.ann import AnnParams
from rag.answer import (
    DEFAULT_ABSTAIN_THRESHOLD,
    DEFAULT_RERANK_ANSWER_THRESHOLD,
    DEFAULT_RERANK_PARTIAL_THRESHOLD,
    SEED_PASSAGES,
    ComposerParams,
)
from rag.chunking import ChunkingParams
from rag.retrieval import RetrievalParams

__all__ = ["ENV_PREFIX", "Settings", "SettingsError", "get_settings", "load_settings"]

ENV_PREFIX = "RAG_"


class Settings(BaseSettings):
    """Effective configuration of the service, the CLI and the evaluation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True
    )

    # Embedding model
    model: str = Field(
        "all-MiniLM-L6-v2",
        min_length=1,
        description="sentence-transformers model: the bundled default, a local path, a hub name, "
        "or 'hashing' (a model-free embedder for dry runs)",
    )
    allow_model_download: bool = Field(False, description="let a hub model name download (off: HF_HUB_OFFLINE=1)")
    device: str = "cpu"
    embed_batch_size: int = Field(64, ge=1, le=4096)
    encoder: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="what runs the bundled model: ONNX Runtime on a graph exported once from its weights "
        "(fp32, the default: the same vectors, faster), the same graph int8-quantised, or sentence-transformers "
        "on torch; another model always runs on sentence-transformers",
    )
    onnx_dir: Path | None = Field(
        None, description="where the exported ONNX graphs are kept (default: '<index_dir>.onnx' beside the index)"
    )
    lexical_cache: bool = Field(
        True,
        description="save the retriever's BM25 indexes and term tables in '<index_dir>.lexical' beside the index "
        "and load them at the next start over the same texts, instead of tokenising the corpus again",
    )
    batch_window_ms: float = Field(
        2.0, ge=0, le=1000, description="how long a question waits for others to be encoded with it, under load"
    )
    max_batch: int = Field(32, ge=1, le=4096, description="most questions encoded in one call (1: no micro-batching)")

    # Corpus and index
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index/default")
    passage_sentences: int = Field(3, ge=1, le=50)
    passage_overlap: int = Field(1, ge=0, le=49)
    passage_max_chars: int = Field(800, ge=50, le=100_000)
    sentence_title_context: float = Field(
        0.5, ge=0, le=1, description="share of the 'title: sentence' embedding in a sentence's vector"
    )

    # Large corpora: the passage index (files store; see rag/ann.py and docs/scaling.md)
    ann: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        "auto",
        description="passage index: 'auto' (exact flat below RAG_ANN_THRESHOLD passages, HNSW from it, IVF from "
        "RAG_ANN_IVF_THRESHOLD), 'flat' (always exact), 'hnsw' or 'ivf' (always approximate)",
    )
    ann_threshold: int = Field(
        100_000,
        ge=1,
        le=10**12,
        description="passages from which 'auto' builds HNSW, and retrieval takes BM25's top-k from the postings "
        "and reads passage vectors by row",
    )
    ann_ivf_threshold: int = Field(
        500_000, ge=1, le=10**12, description="passages from which 'auto' builds IVF instead of HNSW (a cheaper build)"
    )
    hnsw_m: int = Field(32, ge=4, le=256, description="HNSW neighbours per vector (memory: about 8·M bytes each)")
    hnsw_ef_construction: int = Field(80, ge=8, le=4096, description="HNSW candidates kept while building")
    hnsw_ef_search: int = Field(
        128, ge=1, le=65536, description="HNSW candidates kept while searching (at least the depth asked for)"
    )
    ivf_nlist: int = Field(0, ge=0, le=1 << 24, description="IVF cells (0: about 4·√passages)")
    ivf_nprobe: int = Field(32, ge=1, le=1 << 24, description="IVF cells visited per search")
    quantize: Literal["none", "sq8"] = Field(
        "none", description="passage vectors stored as float32 ('none') or 8-bit scalar-quantised ('sq8', 4x smaller)"
    )

    # Where the index is kept
    store: Literal["files", "postgres"] = Field(
        "files",
        description="'files': FAISS + files in RAG_INDEX_DIR (one process); 'postgres': PostgreSQL with pgvector at "
        "RAG_DATABASE_URL, shared by every API replica",
    )
    database_url: SecretStr | None = Field(
        None, description="postgresql://user:password@host:port/dbname (RAG_STORE=postgres); the password is masked"
    )
    database_schema: str = Field(
        "rag", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="schema holding the index's tables"
    )
    database_pool_size: int = Field(4, ge=2, le=1000, description="connections per process")
    database_connect_timeout: float = Field(5.0, gt=0, le=300, description="seconds to wait for the database")
    database_ef_search: int = Field(
        100, ge=1, le=1000, description="HNSW candidates per dense search (at least the retrieval depth is used)"
    )
    ray_address: str | None = Field(
        None, description="Ray cluster for `rag index --engine ray` (e.g. ray://head:10001); unset: a local Ray"
    )

    entity_tagger: Literal["spacy", "rules", "none"] = Field(
        "spacy", description="named entities found at index time: spaCy's small English model, rules, or none"
    )

    # Retrieval and answers
    ranker: str = Field(
        "learned",
        min_length=1,
        description="sentence ranking: 'learned' (the shipped model), 'weighted' (hand-set weights) "
        "or the path of a ranker JSON fitted by benchmarks/fit_ranker.py",
    )
    answerability: str = Field(
        "off",
        min_length=1,
        description="confidence: 'learned' (the shipped answerability model), 'off' (hand-set blend of cosine "
        "and BM25) or the path of an answerability JSON fitted by benchmarks/fit_ranker.py",
    )
    reranker: str = Field(
        "cross-encoder",
        min_length=1,
        description="second-stage scoring of the best sentences: 'cross-encoder' (the bundled model with the "
        "shipped adapter), 'off', or the path of an adapter fitted by benchmarks/fit_reranker.py",
    )
    rerank_depth: int = Field(4, ge=1, le=50, description="best sentences the reranker re-scores")
    rerank_prior_weight: float = Field(
        1.0, ge=0, le=10, description="weight of the learned ranker's logit added to the reranker's"
    )
    rerank_skip_margin: float = Field(
        0.0,
        ge=0,
        le=20,
        description="keep the ranker's order, without the reranker, when its best sentence leads the second "
        "by this much in logit (0: always re-score)",
    )
    rerank_threads: int = Field(0, ge=0, le=64, description="torch threads for the reranker (0: torch's default)")
    rerank_runtime: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        description="what runs the reranker: 'auto' follows the encoder (torch for torch, ONNX Runtime fp32 "
        "otherwise), or torch, ONNX Runtime fp32, or the same graph int8-quantised",
    )
    rerank_confidence: bool = Field(
        False, description="read the confidence from the reranker's best probability (with its own thresholds)"
    )
    rerank_answer_threshold: float = Field(
        DEFAULT_RERANK_ANSWER_THRESHOLD, ge=0, le=1, description="reranker confidence that answers"
    )
    rerank_partial_threshold: float = Field(
        DEFAULT_RERANK_PARTIAL_THRESHOLD, ge=0, le=1, description="reranker confidence for a partial answer"
    )
    fusion: Literal["rrf", "weighted", "dense", "bm25"] = "weighted"
    retrieval_depth: int = Field(50, ge=1, le=10_000)
    dense_weight: float = Field(0.5, ge=0, le=1)
    sentence_dense_weight: float = Field(0.8, ge=0, le=1)
    sentence_lexical_weight: float = Field(0.3, ge=0, le=1)
    sentence_passage_weight: float = Field(0.2, ge=0, le=1)
    sentence_bm25_k1: float = Field(0.5, ge=0, le=10)
    sentence_bm25_b: float = Field(0.3, ge=0, le=1)
    lexical_title_context: bool = Field(True, description="BM25 also sees the document title")
    top_k: int = Field(16, ge=1, le=100, description="passages whose sentences are considered for an answer")
    max_sentences: int = Field(3, ge=1, le=10)
    mmr_lambda: float = Field(0.7, ge=0, le=1)
    relative_cutoff: float = Field(0.3, ge=0, le=1)
    duplicate_similarity: float = Field(0.9, ge=0, le=1)
    abstain_threshold: float = Field(
        DEFAULT_ABSTAIN_THRESHOLD, ge=0, le=1, description="chosen by `rag eval` on the development set"
    )
    confidence_dense_weight: float = Field(0.1, ge=0, le=1)
    confidence_rerank_weight: float = Field(
        1.0, ge=0, le=1, description="weight of the reranked best score in the confidence (1: noisy-or with the blend)"
    )
    lexical_saturation: float = Field(6.0, gt=0, le=1000)
    lexical_saturation_passages: int = Field(
        SEED_PASSAGES,
        ge=0,
        le=10**9,
        description="passages at which lexical_saturation holds; scaled by BM25's largest IDF elsewhere (0: fixed)",
    )
    confidence_evidence_sentences: int = Field(2, ge=1, le=50)
    partial_threshold: float = Field(0.25, ge=0, le=1, description="lowest confidence for a partial answer")
    min_named_coverage: float = Field(
        0.5, ge=0, le=1, description="share of the question's names and numbers the articles must mention"
    )
    min_candidate_named: float = Field(
        0.5, ge=0, le=1, description="share of the question's names and numbers the best candidate sentences must hold"
    )
    min_term_coverage: float = Field(
        0.3, ge=0, le=1, description="IDF-weighted share of the question's terms the articles must mention"
    )
    abstain_uncounted: bool = Field(
        True, description='abstain on "How many X?" when the articles mention X but never put a number before it'
    )
    complete_span: bool = Field(True, description="cite a sentence with the neighbour that completes it")
    type_min_share: float = Field(
        0.0, ge=0, le=1, description="... if its score is at least this share of the best sentence's"
    )
    type_window: int = Field(
        3, ge=1, le=50, description="factoid questions: the best typed sentence among this many is cited first"
    )
    require_answer_type: bool = Field(
        True, description="abstain on a factoid question whose cited sentence holds no answer of the asked type"
    )

    # HTTP service
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_question_chars: int = Field(500, ge=10, le=10_000)
    max_top_k: int = Field(50, ge=1, le=1000)
    answer_cache_size: int = Field(
        1024, ge=0, le=1_000_000, description="POST /ask answers kept for repeated questions until a write (0: off)"
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="comma-separated; when set, requests need an X-API-Key header"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, description="comma-separated")
    max_body_bytes: int = Field(
        5_000_000, ge=1024, le=1_000_000_000, description="larger request bodies are refused with 413 unread"
    )
    request_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="reads taking longer are answered 504 (writes are not cut short)"
    )
    write_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="comma-separated; writes need 'Authorization: Bearer <key>'"
    )
    write_keys_file: Path | None = Field(None, description="a file with one write key per line (adds to write_keys)")
    max_document_chars: int = Field(500_000, ge=100, le=50_000_000, description="longest article text a write takes")
    max_documents_per_write: int = Field(1000, ge=1, le=100_000, description="most articles in one POST /documents")
    corpus_journal: Path | None = Field(
        None, description="the written corpus (default: '<index_dir>.writes.jsonl' next to the index directory)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"

    @field_validator("api_keys", "write_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("seeds_dir", "index_dir", mode="before")
    @classmethod
    def _nonempty_path(cls, value: Any) -> Any:
        # Path("") is the current directory, which an unset shell variable would silently choose.
        if isinstance(value, str) and not value.strip():
            raise ValueError("expected a path, got an empty string")
        return value

    @field_validator("onnx_dir", "write_keys_file", "corpus_journal", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_overlap(self) -> Settings:
        if "encoder" in self.model_fields_set and self.encoder != "torch" and not self.bundled_model():
            raise ValueError(
                f"{ENV_PREFIX}ENCODER={self.encoder} runs the bundled all-MiniLM-L6-v2 only; "
                f"{ENV_PREFIX}MODEL is '{self.model}'"
            )
        if self.store == "postgres" and self.database_url is None:
            raise ValueError(
                f"{ENV_PREFIX}STORE=postgres needs {ENV_PREFIX}DATABASE_URL (postgresql://user:pass@host/db)"
            )
        if self.ivf_nprobe > self.ivf_nlist > 0:
            raise ValueError(
                f"{ENV_PREFIX}IVF_NPROBE ({self.ivf_nprobe}) cannot exceed {ENV_PREFIX}IVF_NLIST ({self.ivf_nlist})"
            )
        if self.passage_overlap >= self.passage_sentences:
            raise ValueError(
                f"{ENV_PREFIX}PASSAGE_OVERLAP ({self.passage_overlap}) must be less than "
                f"{ENV_PREFIX}PASSAGE_SENTENCES ({self.passage_sentences})"
            )
        return self

    def chunking(self) -> ChunkingParams:
        return ChunkingParams(
            self.passage_sentences, self.passage_overlap, self.passage_max_chars, self.sentence_title_context
        )

    def retrieval(self) -> RetrievalParams:
        return RetrievalParams(
            fusion=self.fusion,
            depth=self.retrieval_depth,
            dense_weight=self.dense_weight,
            sentence_dense_weight=self.sentence_dense_weight,
            sentence_lexical_weight=self.sentence_lexical_weight,
            sentence_passage_weight=self.sentence_passage_weight,
            sentence_bm25_k1=self.sentence_bm25_k1,
            sentence_bm25_b=self.sentence_bm25_b,
            lexical_title_context=self.lexical_title_context,
            large_corpus=self.ann_threshold,
        )

    def ann_params(self) -> AnnParams:
        """How the passage index is built; with ``store=postgres`` pgvector searches, so the vectors built in
        the process only carry them to the database: flat, whatever ``ann`` says."""
        return AnnParams(
            kind="flat" if self.store == "postgres" else self.ann,
            threshold=self.ann_threshold,
            ivf_threshold=self.ann_ivf_threshold,
            hnsw_m=self.hnsw_m,
            hnsw_ef_construction=self.hnsw_ef_construction,
            hnsw_ef_search=self.hnsw_ef_search,
            ivf_nlist=self.ivf_nlist,
            ivf_nprobe=self.ivf_nprobe,
            quantize=self.quantize,
        )

    def composer(self) -> ComposerParams:
        return ComposerParams(
            max_sentences=self.max_sentences,
            mmr_lambda=self.mmr_lambda,
            relative_cutoff=self.relative_cutoff,
            duplicate_similarity=self.duplicate_similarity,
            abstain_threshold=self.abstain_threshold,
            confidence_dense_weight=self.confidence_dense_weight,
            confidence_rerank_weight=self.confidence_rerank_weight,
            lexical_saturation=self.lexical_saturation,
            lexical_saturation_passages=self.lexical_saturation_passages,
            confidence_evidence_sentences=self.confidence_evidence_sentences,
            partial_threshold=self.partial_threshold,
            min_named_coverage=self.min_named_coverage,
            min_term_coverage=self.min_term_coverage,
            abstain_uncounted=self.abstain_uncounted,
            min_candidate_named=self.min_candidate_named,
            require_answer_type=self.require_answer_type,
            complete_span=self.complete_span,
            type_window=self.type_window,
            type_min_share=self.type_min_share,
            rerank_confidence=self.rerank_confidence,
            rerank_answer_threshold=self.rerank_answer_threshold,
            rerank_partial_threshold=self.rerank_partial_threshold,
        )

    def bundled_model(self) -> bool:
        """Whether ``model`` names the bundled all-MiniLM-L6-v2 (the model ``encoder`` applies to)."""
        return self.model in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "bundled")

    def onnx_path(self) -> Path:
        """Where the exported ONNX graphs are kept (see :mod:`rag.onnx_embedding`)."""
        if self.onnx_dir is not None:
            return self.onnx_dir
        return self.index_dir.parent / f"{self.index_dir.name}.onnx"

    def lexical_path(self) -> Path | None:
        """Where the retriever's BM25 indexes are saved (see :mod:`rag.lexical_cache`); None when off."""
        return self.index_dir.parent / f"{self.index_dir.name}.lexical" if self.lexical_cache else None

    def journal_path(self) -> Path:
        """Where writes through the API are recorded (see :mod:`rag.corpus`)."""
        if self.corpus_journal is not None:
            return self.corpus_journal
        return self.index_dir.parent / f"{self.index_dir.name}.writes.jsonl"

    def all_write_keys(self) -> list[SecretStr]:
        """``write_keys`` plus the keys in ``write_keys_file`` (one a line; blank lines and ``#`` comments skipped)."""
        keys = list(self.write_keys)
        if self.write_keys_file is not None:
            try:
                lines = self.write_keys_file.read_text(encoding="utf-8-sig").splitlines()  # a BOM is no key
            except (OSError, UnicodeDecodeError) as exc:
                raise SettingsError(f"{ENV_PREFIX}WRITE_KEYS_FILE: cannot read {self.write_keys_file} ({exc})") from exc
            stripped = (line.strip() for line in lines)
            keys.extend(SecretStr(line) for line in stripped if line and not line.startswith("#"))
        return keys

    def masked(self) -> dict[str, Any]:
        """Settings as plain values with secrets masked, for printing."""
        data = self.model_dump(mode="json")
        data["api_keys"] = ["****" for _ in self.api_keys]
        data["write_keys"] = ["****" for _ in self.write_keys]
        if self.database_url is not None:
            from rag.stores import redact_url

            data["database_url"] = redact_url(self.database_url.get_secret_value())
        return data


class SettingsError(ValueError):
    """Invalid settings; the message names each offending environment variable."""


# Variables with the prefix that belong to the tooling around the service, not to Settings.
_OTHER_VARIABLES = ("RAG_TEST_", "RAG_PG_")


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A line for each ``RAG_*`` variable that is no setting (a typo is otherwise silently ignored),
    naming the closest setting when there is one."""
    names = sorted(f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields)
    lines = []
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in names or variable.startswith(_OTHER_VARIABLES):
            continue
        close = difflib.get_close_matches(variable, names, n=1, cutoff=0.75)
        lines.append(f"{variable} is not a setting" + (f"; did you mean {close[0]}?" if close else ""))
    return lines


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning validation errors into one message naming the variables."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            name = f"{ENV_PREFIX}{field.upper()}" if field != "settings" else "settings"
            problems.append(f"{name}: {str(error['msg']).removeprefix('Value error, ')}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
