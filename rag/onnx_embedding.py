"""The bundled all-MiniLM-L6-v2 on ONNX Runtime: exported once, offline, from the bundled weights.

:func:`export_onnx` traces the bundled BERT with ``torch.onnx.export`` (the TorchScript exporter; no
``optimum``) into ``model.onnx`` and, for ``int8``, quantises its weights dynamically
(``onnxruntime.quantization.quantize_dynamic``) into ``model-int8.onnx``. :class:`OnnxEmbedder` runs
the file with ``onnxruntime`` and the ``tokenizers`` library and pools exactly like the
sentence-transformers model (``modules.json``: Transformer with ``max_seq_length`` 256, mean pooling
over the attention mask, L2 normalisation), so its vectors match the torch ones (cosine ≥ 0.999 for
``fp32``; a test checks it).

The exported files live in a cache directory (``RAG_ONNX_DIR``, default ``<index_dir>.onnx`` beside the
index) with ``export.json`` recording the source weights' sha256 and each file's sha256; a file that
does not match is exported again.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rag.embedding import DEFAULT_MODEL, EmbedderError, bundled_model_path, verify_bundled_model
from rag.files import file_sha256

__all__ = ["EXPORT_VERSION", "OnnxEmbedder", "OnnxVariant", "export_onnx", "export_token_states"]

# ONNX Runtime otherwise writes a telemetry device id under ~/.cache at its first session; the service's
# HOME is not writable (and nothing is written outside the index and the ONNX cache). Read at import.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

OnnxVariant = Literal["fp32", "int8"]
EXPORT_VERSION = 1  # bump when the exported graph or its quantisation changes
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json of the bundled model
_FILES = {"fp32": "model.onnx", "int8": "model-int8.onnx"}
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_OPSET = 17


def _read_record(cache_dir: Path) -> dict[str, Any]:
    try:
        record = json.loads((cache_dir / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _valid(cache_dir: Path, variant: OnnxVariant, weights_hash: str) -> bool:
    record = _read_record(cache_dir)
    entry = record.get("files", {}).get(variant)
    path = cache_dir / _FILES[variant]
    return (
        record.get("export_version") == EXPORT_VERSION
        and record.get("source_weights_sha256") == weights_hash
        and isinstance(entry, dict)
        and path.is_file()
        and entry.get("sha256") == file_sha256(path)
    )


def export_token_states(model: Any, target: Path) -> None:
    """Trace ``model`` (a BERT in eval mode) into ``target``: token ids in, last hidden states out.

    Batch and sequence axes are dynamic; the exporter's tracer warnings are silenced, since they are
    about this fixed graph (tests compare its outputs with torch's) and would otherwise reach the
    service log as plain-text lines."""
    import warnings

    import torch

    class _Hidden(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Hidden(model),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={
                **{name: {0: "batch", 1: "sequence"} for name in _INPUTS},
                "last_hidden_state": {0: "batch", 1: "sequence"},
            },
            opset_version=ONNX_OPSET,
            dynamo=False,
            do_constant_folding=True,
        )


def _export_fp32(model_dir: Path, target: Path) -> None:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    model.eval()
    export_token_states(model, target)


def export_onnx(cache_dir: Path, variant: OnnxVariant = "fp32", *, model_dir: Path | None = None) -> Path:
    """The exported model file of ``variant`` in ``cache_dir``, exporting it (and fp32 first, for int8) if needed."""
    model_dir = model_dir or bundled_model_path()
    weights_hash = verify_bundled_model(model_dir)
    if _valid(cache_dir, variant, weights_hash):
        return cache_dir / _FILES[variant]
    cache_dir.mkdir(parents=True, exist_ok=True)
    record = _read_record(cache_dir)
    if record.get("source_weights_sha256") != weights_hash or record.get("export_version") != EXPORT_VERSION:
        record = {"export_version": EXPORT_VERSION, "source_weights_sha256": weights_hash, "files": {}}
    started = time.perf_counter()
    if variant == "int8":
        source = export_onnx(cache_dir, "fp32", model_dir=model_dir)
        record = _read_record(cache_dir)
    for_variant = cache_dir / _FILES[variant]
    fd, staging_name = tempfile.mkstemp(prefix=f".{for_variant.name}.", suffix=".tmp", dir=cache_dir)
    os.close(fd)
    staging = Path(staging_name)
    try:
        if variant == "fp32":
            _export_fp32(model_dir, staging)
        else:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(source), str(staging), weight_type=QuantType.QInt8, per_channel=True)
        staging.replace(for_variant)
    finally:
        staging.unlink(missing_ok=True)
    import onnxruntime
    import torch

    record["files"][variant] = {
        "file": for_variant.name,
        "sha256": file_sha256(for_variant),
        "bytes": for_variant.stat().st_size,
        "seconds": round(time.perf_counter() - started, 2),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "opset": ONNX_OPSET,
        "quantization": "dynamic QInt8 per-channel weights (onnxruntime.quantization.quantize_dynamic)"
        if variant == "int8"
        else None,
    }
    staged_record = cache_dir / f".export.json.{os.getpid()}.tmp"
    staged_record.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    staged_record.replace(cache_dir / "export.json")
    return for_variant


class OnnxEmbedder:
    """The bundled model's vectors from an ONNX Runtime session (CPU)."""

    def __init__(
        self, cache_dir: Path, variant: OnnxVariant = "fp32", *, batch_size: int = 64, threads: int = 0
    ) -> None:
        if variant not in _FILES:
            raise ValueError(f"variant must be one of {', '.join(_FILES)}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.cache_dir = Path(cache_dir)
        self.variant: OnnxVariant = variant
        self.batch_size = batch_size
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._weights_hash: str | None = None
        self.load_seconds: float | None = None
        self.model_file: Path | None = None
        self._load_lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return DEFAULT_MODEL

    @property
    def weights_hash(self) -> str:
        """The bundled weights' hash, marked with the runtime: an index built by another encoder is re-embedded."""
        self.warm_up()
        assert self._weights_hash is not None
        return self._weights_hash

    @property
    def dimension(self) -> int:
        return 384

    def warm_up(self) -> OnnxEmbedder:
        """Export (first time only) and load the graph; safe to call from several threads."""
        if self._session is not None:
            return self
        with self._load_lock:
            if self._session is None:
                self._load()
        return self

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise EmbedderError(f"RAG_ENCODER=onnx needs onnxruntime and tokenizers: {exc}") from exc
        model_dir = bundled_model_path()
        source_hash = verify_bundled_model(model_dir)
        self.model_file = export_onnx(self.cache_dir, self.variant, model_dir=model_dir)
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads sleep instead of spinning: the service's Python threads (and the other
        # work of a shared machine) need the cores between encodes.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            str(self.model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
        tokenizer.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")  # to the longest text of the batch
        self._tokenizer = tokenizer
        self._weights_hash = f"{source_hash}+onnx-{self.variant}"
        self.load_seconds = time.perf_counter() - started
        self._session = session

    def encoder_info(self) -> dict[str, Any]:
        """Recorded in the index manifest: which exported graph made the vectors, and where it is kept."""
        self.warm_up()
        assert self.model_file is not None
        record = _read_record(self.cache_dir).get("files", {}).get(self.variant, {})
        return {
            "runtime": "onnxruntime",
            "variant": self.variant,
            "cache_dir": str(self.cache_dir),
            "model_file": self.model_file.name,
            "sha256": record.get("sha256"),
            "export_version": EXPORT_VERSION,
        }

    def _encode(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Like sentence-transformers: longest first, so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._encode([texts[i] for i in rows])
        return np.ascontiguousarray(out)
