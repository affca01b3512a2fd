"""Which FAISS index holds the passage vectors: exact below a size threshold, approximate above it.

Small corpora (the default seeds, every test) keep ``IndexFlatIP``: exact inner product, so answers
do not change. From ``threshold`` passages up, ``auto`` builds an HNSW graph (``IndexHNSWFlat``, or
``IndexHNSWSQ`` with 8-bit scalar quantisation), and from ``ivf_threshold`` up an inverted file over
k-means cells (``IndexIVFFlat`` / ``IndexIVFScalarQuantizer``): on the 2-core benchmark machine an HNSW
graph of 100k passages took 131 s to build (recall@10 0.993), while at 1M the IVF index took 48 s
(recall@10 0.983 at nprobe 8, 0.9 ms a query) and a cheaper-than-default HNSW graph 539 s for recall 0.93.
What was built, with its parameters, is recorded in the manifest (:func:`describe`) and
:func:`configure` applies the search-time parameters again when an index is loaded. A manifest
without the record (written before this module) means flat.

The sentence vectors stay in a flat index whatever the size: they are never searched, only read
by row, so an approximate structure would cost memory and buy nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import faiss
import numpy as np

__all__ = ["ANN_KINDS", "QUANTIZERS", "AnnParams", "build_index", "configure", "describe", "search"]

AnnKind = Literal["auto", "flat", "hnsw", "ivf"]
Quantize = Literal["none", "sq8"]
ANN_KINDS: tuple[str, ...] = ("auto", "flat", "hnsw", "ivf")
QUANTIZERS: tuple[str, ...] = ("none", "sq8")
# faiss's bundled stubs lack some of what the library has (SearchParametersHNSW, DirectMap, IndexHNSWSQ's
# quantiser-type argument); those are reached through this untyped alias.
_faiss: Any = faiss
# Vectors k-means sees per IVF cell (faiss asks for 39 at least), and at most, when training the coarse
# quantiser or the SQ8 ranges: a sample is enough, and k-means time grows with it.
_TRAIN_PER_CELL = 64
_TRAIN_SAMPLE = 100_000


@dataclass(frozen=True)
class AnnParams:
    """How the passage index is built (``RAG_ANN*``, ``RAG_HNSW_*``, ``RAG_IVF_*``, ``RAG_QUANTIZE``)."""

    kind: AnnKind = "auto"
    threshold: int = 100_000
    """``auto``: passages from which the index is HNSW rather than flat."""
    ivf_threshold: int = 500_000
    """``auto``: passages from which the index is IVF rather than HNSW (its build is far cheaper)."""
    hnsw_m: int = 32
    """Graph neighbours per vector: more is higher recall, more memory (about 8·M bytes a vector)."""
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    """Candidates kept during a search (at least the ``k`` asked for is used)."""
    ivf_nlist: int = 0
    """IVF cells; 0: about 4·√n."""
    ivf_nprobe: int = 32
    quantize: Quantize = "none"

    def __post_init__(self) -> None:
        if self.kind not in ANN_KINDS:
            raise ValueError(f"ann must be one of {', '.join(ANN_KINDS)}, not {self.kind!r}")
        if self.quantize not in QUANTIZERS:
            raise ValueError(f"quantize must be one of {', '.join(QUANTIZERS)}, not {self.quantize!r}")
        limits = {
            "threshold": (1, 10**12),
            "ivf_threshold": (1, 10**12),
            "hnsw_m": (4, 256),
            "hnsw_ef_construction": (8, 4096),
            "hnsw_ef_search": (1, 65536),
            "ivf_nlist": (0, 1 << 24),
            "ivf_nprobe": (1, 1 << 24),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer from {low} to {high}, not {value!r}")

    def kind_for(self, passages: int) -> str:
        """The index kind used for ``passages`` vectors: ``flat``, ``hnsw`` or ``ivf``."""
        if self.kind == "auto":
            if passages < self.threshold:
                return "flat"
            return "ivf" if passages >= self.ivf_threshold else "hnsw"
        return self.kind

    def nlist_for(self, passages: int) -> int:
        wanted = self.ivf_nlist or int(4 * math.sqrt(max(passages, 1)))
        # k-means wants about 39 training points a cell; fewer cells on small inputs.
        return max(1, min(wanted, passages // 39 or 1))


def build_index(vectors: np.ndarray, dimension: int, params: AnnParams) -> tuple[faiss.Index, dict[str, Any]]:
    """The passage index over ``vectors`` (rows in order) and its manifest record."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
    n = len(vectors)
    kind = params.kind_for(n)
    sq8 = params.quantize == "sq8"
    record: dict[str, Any] = {
        "kind": kind,
        "quantize": params.quantize,
        "threshold": params.threshold,
        "ivf_threshold": params.ivf_threshold,
    }
    index: faiss.Index
    if kind == "flat":
        index = (
            faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            if sq8
            else faiss.IndexFlatIP(dimension)
        )
    elif kind == "hnsw":
        metric = faiss.METRIC_INNER_PRODUCT
        graph: Any = (
            _faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_8bit, params.hnsw_m, metric)
            if sq8
            else faiss.IndexHNSWFlat(dimension, params.hnsw_m, metric)
        )
        graph.hnsw.efConstruction = params.hnsw_ef_construction
        index = graph
        record.update(m=params.hnsw_m, ef_construction=params.hnsw_ef_construction, ef_search=params.hnsw_ef_search)
    else:
        nlist = params.nlist_for(n)
        coarse = faiss.IndexFlatIP(dimension)
        if sq8:
            index = faiss.IndexIVFScalarQuantizer(
                coarse, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
        else:
            index = faiss.IndexIVFFlat(coarse, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        record.update(nlist=nlist, nprobe=params.ivf_nprobe)
    if not index.is_trained and n:
        cells = int(record.get("nlist", 1))
        index.train(_sample(vectors, min(_TRAIN_SAMPLE, max(_TRAIN_PER_CELL * cells, 10_000))))
    if n:
        index.add(vectors)
    configure(index, record)
    return index, record


def _sample(vectors: np.ndarray, size: int) -> np.ndarray:
    if len(vectors) <= size:
        return vectors
    rows = np.random.default_rng(0).choice(len(vectors), size, replace=False)
    return vectors[np.sort(rows)]


def configure(index: faiss.Index, record: dict[str, Any] | None) -> None:
    """Apply a manifest record's search-time parameters to a (loaded) index, checking it is of that kind.

    Raises ``ValueError`` when the file's index is not the kind the record names.
    """
    kind = (record or {}).get("kind", "flat")
    actual = kind_of(index)
    if actual != kind:
        raise ValueError(f"the manifest records a {kind} passage index but the file holds a {actual} one")
    if kind == "hnsw":
        _faiss.downcast_index(index).hnsw.efSearch = int(record["ef_search"]) if record else 16
    elif kind == "ivf":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = int(record["nprobe"]) if record else 1
        if ivf.direct_map.type == _faiss.DirectMap.NoMap:
            ivf.make_direct_map()  # reconstruct(row): incremental builds and lexical-only candidates read vectors


def kind_of(index: faiss.Index) -> str:
    concrete = faiss.downcast_index(index)
    if isinstance(concrete, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(concrete, faiss.IndexIVF):
        return "ivf"
    return "flat"


def search(index: faiss.Index, record: dict[str, Any] | None, vectors: np.ndarray, k: int) -> tuple[Any, Any]:
    """``index.search`` with at least ``k`` HNSW candidates (efSearch below k would return fewer good rows)."""
    queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, index.d)
    if record and record.get("kind") == "hnsw" and k > int(record["ef_search"]) and kind_of(index) == "hnsw":
        return index.search(queries, k, params=_faiss.SearchParametersHNSW(efSearch=k))
    return index.search(queries, k)


def describe(index: faiss.Index, record: dict[str, Any], index_bytes: int | None = None) -> dict[str, Any]:
    """The manifest record with the index's size: file bytes and bytes per passage."""
    described = dict(record)
    described["passages"] = int(index.ntotal)
    if index_bytes is not None:
        described["index_bytes"] = index_bytes
        described["bytes_per_passage"] = round(index_bytes / index.ntotal, 1) if index.ntotal else 0.0
    return described
