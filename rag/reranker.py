"""A cross-encoder that reads the question and a candidate sentence together and scores the pair.

The bi-encoder and BM25 see the question and the sentence apart; a cross-encoder attends across
both, which is what tells "the council wants a vote before March" from the sentence that says why.
The model is the bundled all-MiniLM-L6-v2 with a small low-rank adapter and a scoring head fitted
by ``benchmarks/fit_reranker.py`` (``rag/models/reranker.safetensors``, under 2 MB): the adapter is
merged into the bundled weights once, at warm-up, so nothing but the adapter ships in the
repository and nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from rag.embedding import bundled_model_path
from rag.files import file_sha256
from rag.onnx_embedding import export_token_states
from rag.retrieval import ScoredSentence

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULT_RERANKER",
    "CrossEncoderReranker",
    "Reranker",
    "RerankerError",
    "pair_text",
    "ranker_lead",
    "rerank_sentences",
]

DEFAULT_RERANKER = "reranker.safetensors"


class RerankerError(RuntimeError):
    """A reranker adapter file that cannot be used; the message names the file."""


@runtime_checkable
class Reranker(Protocol):
    """Anything that scores (question, passage) pairs: higher means more likely to answer."""

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray: ...


def pair_text(title: str, sentence: str) -> str:
    """The candidate text the reranker reads (and was fitted on): the document title, then the sentence."""
    return f"{title}: {sentence}" if title else sentence


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the token states under the attention mask (the bundled model's own pooling)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def _adapter_source(path: Path | str | None) -> tuple[str, Path]:
    if path is None:
        where = f"rag/models/{DEFAULT_RERANKER}"
        return where, Path(str(resources.files("rag.models").joinpath(DEFAULT_RERANKER)))
    return str(path), Path(path)


Runtime = Literal["torch", "onnx", "onnx-int8"]
RUNTIMES: tuple[Runtime, ...] = ("torch", "onnx", "onnx-int8")
ONNX_EXPORT_VERSION = 1
INT8_EXPORT_VERSION = 1  # bump when the quantisation below changes
INT8_FP32_LAYERS: tuple[int, ...] = ()
"""Encoder layers whose matrix products stay fp32 in the int8 graph (by measurement: see docs/benchmarks.md)."""


def read_adapter(path: Path, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The adapter's tensors and its metadata; a missing or damaged file raises :class:`RerankerError`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    if not path.is_file():
        raise RerankerError(f"reranker adapter {where} is missing")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            raw_meta = handle.metadata() or {}
        meta = json.loads(raw_meta.get("rag", "{}"))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RerankerError(f"reranker adapter {where} cannot be read ({exc})") from exc
    if "head.weight" not in tensors or "head.bias" not in tensors:
        raise RerankerError(f"reranker adapter {where} has no scoring head")
    return tensors, meta


def merged_model(tensors: dict[str, Any], meta: dict[str, Any], where: str) -> Any:
    """The bundled BERT with the adapter merged into its weights, in eval mode."""
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(bundled_model_path()), local_files_only=True, attn_implementation="eager")
    model.eval()
    merge_adapter(model, tensors, float(meta.get("scale", 1.0)), where)
    return model


class CrossEncoderReranker:
    """Scores question/sentence pairs with the bundled MiniLM plus the fitted adapter.

    ``runtime="onnx"`` exports the merged model once into ``cache_dir`` (``reranker-<digest>.onnx``,
    beside the embedder's export) and runs it with ONNX Runtime; ``"onnx-int8"`` runs that graph with
    its weights quantised to int8 (``reranker-<digest>-int8.onnx``: faster, slightly other scores);
    ``"torch"`` runs the merged model directly. Construction is light; :meth:`warm_up` (or the first
    call) loads the weights.
    """

    def __init__(
        self,
        adapter: Path | str | None = None,
        *,
        runtime: Runtime = "torch",
        cache_dir: Path | None = None,
        max_length: int | None = None,
        threads: int | None = None,
    ) -> None:
        if max_length is not None and max_length < 16:
            raise ValueError("max_length must be at least 16 tokens")
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        if runtime != "torch" and cache_dir is None:
            raise ValueError("the onnx runtime needs a cache_dir for the exported graph")
        self.where, self.adapter_path = _adapter_source(adapter)
        self.runtime: Runtime = runtime
        self.cache_dir = cache_dir
        self.max_length = max_length
        """Tokens per pair; by default the length the adapter was fitted with."""
        self.threads = threads
        self._lock = threading.Lock()
        self._run: Callable[[str, Sequence[str]], np.ndarray] | None = None
        self.meta: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return f"minilm-lora:{self.meta.get('digest', 'unloaded')}"

    def warm_up(self) -> None:
        """Load (and, for ONNX, export once) the merged model; safe to call from several threads."""
        with self._lock:
            if self._run is not None:
                return
            tensors, meta = read_adapter(self.adapter_path, self.where)
            self.meta = meta
            if self.max_length is None:
                self.max_length = int(meta.get("max_length", 128))
            head_weight = tensors["head.weight"].float().numpy().astype(np.float64)
            head_bias = tensors["head.bias"].float().numpy().astype(np.float64)
            if self.runtime != "torch":
                self._run = self._onnx_runner(tensors, meta, head_weight, head_bias)
            else:
                self._run = self._torch_runner(tensors, meta, head_weight, head_bias)

    def _torch_runner(
        self, tensors: dict[str, Any], meta: dict[str, Any], weight: np.ndarray, bias: np.ndarray
    ) -> Callable[[str, Sequence[str]], np.ndarray]:
        import torch
        from transformers import AutoTokenizer

        model = merged_model(tensors, meta, self.where)
        if self.threads:
            torch.set_num_threads(self.threads)
        tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_path()), local_files_only=True)
        max_length = self.max_length

        def run(question: str, passages: Sequence[str]) -> np.ndarray:
            batch = tokenizer(
                [question] * len(passages),
                list(passages),
                padding=True,
                truncation="longest_first",
                max_length=max_length,
                return_tensors="pt",
            )
            with torch.inference_mode():
                hidden = model(**batch).last_hidden_state
                pooled = mean_pool(hidden, batch["attention_mask"]).double().numpy()
            return pooled @ weight.T[:, 0] + bias[0]

        return run

    def _onnx_runner(
        self, tensors: dict[str, Any], meta: dict[str, Any], weight: np.ndarray, bias: np.ndarray
    ) -> Callable[[str, Sequence[str]], np.ndarray]:
        import onnxruntime
        from tokenizers import Tokenizer

        assert self.cache_dir is not None
        graph = export_reranker_onnx(self.cache_dir, tensors, meta, self.where)
        if self.runtime == "onnx-int8":
            graph = quantise_reranker_onnx(graph)
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(str(graph), sess_options=options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json"))
        assert self.max_length is not None
        tokenizer.enable_truncation(max_length=self.max_length, strategy="longest_first")
        tokenizer.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")

        def run(question: str, passages: Sequence[str]) -> np.ndarray:
            encoded = tokenizer.encode_batch([(question, p) for p in passages])
            ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.asarray([e.type_ids for e in encoded], dtype=np.int64)
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            weights = mask[..., None].astype(np.float64)
            pooled = (hidden.astype(np.float64) * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
            return pooled @ weight.T[:, 0] + bias[0]

        return run

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One score per passage; ``sigmoid`` of it is the fitted probability that it answers."""
        if not passages:
            return np.zeros(0, dtype=np.float64)
        if self._run is None:
            self.warm_up()
        assert self._run is not None
        return np.asarray(self._run(question, passages), dtype=np.float64)

    def probabilities(self, question: str, passages: Sequence[str]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(question, passages)))


def _recorded(target: Path, record_path: Path, expected: dict[str, Any]) -> bool:
    """Whether ``target`` is the file its sidecar JSON describes: the ``expected`` fields and its sha256."""
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and all(record.get(key) == value for key, value in expected.items())
        and target.is_file()
        and record.get("sha256") == file_sha256(target)
    )


def export_reranker_onnx(cache_dir: Path, tensors: dict[str, Any], meta: dict[str, Any], where: str) -> Path:
    """``reranker-<digest>.onnx`` in ``cache_dir``: the merged model's token states, exported once.

    A sidecar JSON records the file's sha256; a file that does not match it is exported again."""
    digest = str(meta.get("digest", "unversioned"))
    target = cache_dir / f"reranker-{digest}.onnx"
    record_path = cache_dir / f"reranker-{digest}.json"
    if _recorded(target, record_path, {"export_version": ONNX_EXPORT_VERSION}):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    model = merged_model(tensors, meta, where)
    fd, staging_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=cache_dir)
    os.close(fd)
    staging = Path(staging_name)
    try:
        export_token_states(model, staging)
        staging.replace(target)
    finally:
        staging.unlink(missing_ok=True)
    record = {"export_version": ONNX_EXPORT_VERSION, "adapter": digest, "sha256": file_sha256(target)}
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return target


def quantise_reranker_onnx(fp32_graph: Path) -> Path:
    """``<graph>-int8.onnx`` beside ``fp32_graph``: its matrix products' weights quantised to int8, once.

    Dynamic quantisation (``onnxruntime.quantization.quantize_dynamic``, per-channel QInt8 weights,
    activations quantised per call), except the layers in :data:`INT8_FP32_LAYERS`. A sidecar JSON
    records the source graph's and the result's sha256; a file that matches neither is quantised again."""
    target = fp32_graph.with_name(f"{fp32_graph.stem}-int8.onnx")
    record_path = target.with_suffix(".json")
    source_hash = file_sha256(fp32_graph)
    expected = {
        "export_version": INT8_EXPORT_VERSION,
        "source_sha256": source_hash,
        "fp32_layers": list(INT8_FP32_LAYERS),
    }
    if _recorded(target, record_path, expected):
        return target
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = tuple(f"/layer.{layer}/" for layer in INT8_FP32_LAYERS)
    fd, staging_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    staging = Path(staging_name)
    # The quantiser logs advice on the root logger, which would reach the service's JSON log as plain lines.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        graph = onnx.load(str(fp32_graph), load_external_data=False)
        excluded = [n.name for n in graph.graph.node if n.op_type == "MatMul" and any(k in n.name for k in keep)]
        quantize_dynamic(
            str(fp32_graph), str(staging), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=excluded
        )
        staging.replace(target)
    except Exception as exc:  # onnx and the quantiser raise many kinds; the caller needs the file named
        raise RerankerError(f"cannot quantise the reranker graph {fp32_graph} to int8 ({exc})") from exc
    finally:
        logging.disable(previous)
        staging.unlink(missing_ok=True)
    record = {
        "export_version": INT8_EXPORT_VERSION,
        "source_sha256": source_hash,
        "fp32_layers": list(INT8_FP32_LAYERS),
        "sha256": file_sha256(target),
    }
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return target


def merge_adapter(model: Any, tensors: dict[str, Any], scale: float, where: str) -> None:
    """Add each low-rank update ``B @ A * scale`` to its linear layer's weight, and load trained norms."""
    import torch

    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for key, a in tensors.items():
            if key.startswith("lora.") and key.endswith(".A"):
                name = key[len("lora.") : -len(".A")]
                b = tensors.get(f"lora.{name}.B")
                layer = modules.get(name)
                if b is None or layer is None or not hasattr(layer, "weight"):
                    raise RerankerError(f"reranker adapter {where} does not fit the bundled model ({name})")
                layer.weight += (b.float() @ a.float()) * scale
            elif key.startswith("param."):
                name = key[len("param.") :]
                if name not in parameters or parameters[name].shape != a.shape:
                    raise RerankerError(f"reranker adapter {where} does not fit the bundled model ({name})")
                parameters[name].copy_(a.float())


def _logit(sentence: ScoredSentence) -> float:
    value = sentence.probability if sentence.probability is not None else sentence.score
    value = min(max(value, 1e-6), 1 - 1e-6)
    return math.log(value / (1 - value))


def ranker_lead(ranked: Sequence[ScoredSentence]) -> float:
    """How far the best sentence leads the second, in ranker logit (infinite for a single sentence)."""
    if len(ranked) < 2:
        return math.inf
    return _logit(ranked[0]) - _logit(ranked[1])


def rerank_sentences(
    question: str,
    ranked: Sequence[ScoredSentence],
    reranker: Reranker,
    title_of: Callable[[str], str],
    *,
    depth: int,
    prior_weight: float = 0.0,
    skip_margin: float = 0.0,
) -> list[ScoredSentence]:
    """``ranked`` with its best ``depth`` sentences re-scored by the cross-encoder and put first.

    The new score is ``sigmoid(cross-encoder logit + prior_weight * ranker logit)``; ``rerank`` keeps
    the cross-encoder's own probability, which the composer reads as its confidence. Sentences past
    ``depth`` keep their order after the re-scored ones. With ``skip_margin > 0``, a ranking whose
    best sentence leads the second by at least that much in ranker logit is returned unchanged,
    without running the cross-encoder.
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    if skip_margin < 0:
        raise ValueError("skip_margin must not be negative")
    top = list(ranked[:depth])
    if not top:
        return []
    if skip_margin > 0 and ranker_lead(top) >= skip_margin:
        return list(ranked)
    logits = reranker.logits(question, [pair_text(title_of(s.sentence.doc_id), s.sentence.text) for s in top])
    combined = logits.copy()
    if prior_weight:
        prior = np.asarray([s.probability if s.probability is not None else s.score for s in top], dtype=np.float64)
        prior = np.clip(prior, 1e-6, 1 - 1e-6)
        combined += prior_weight * np.log(prior / (1 - prior))
    own = 1.0 / (1.0 + np.exp(-logits))
    score = 1.0 / (1.0 + np.exp(-combined))
    rescored = [replace(s, score=float(score[i]), rerank=float(own[i])) for i, s in enumerate(top)]
    rescored.sort(key=lambda s: (-s.score, s.row))
    floor = rescored[-1].score
    rest = [replace(s, score=min(s.score, floor)) for s in ranked[depth:]]
    return rescored + rest
