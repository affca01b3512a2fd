"""Continuing a reranker fit: a saved adapter's weights load back into a fresh one, or are refused by name."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest


def _tiny_fit(first_layer: int = 1, rank: int = 4) -> tuple[Any, dict[str, Any], dict[str, Any], Any]:
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel

    from benchmarks.fit_reranker import add_lora, in_fitted_layer

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    model = BertModel(config)
    norms = {n: p for n, p in model.named_parameters() if "LayerNorm" in n and in_fitted_layer(n, first_layer)}
    adapters = add_lora(model, rank=rank, alpha=8.0, first_layer=first_layer)
    head = torch.nn.Linear(16, 1)
    return model, adapters, norms, head


def _args(rank: int = 4, first_layer: int = 1) -> argparse.Namespace:
    return argparse.Namespace(rank=rank, alpha=8.0, first_layer=first_layer)


def _save(path: Path, adapters: dict[str, Any], norms: dict[str, Any], head: Any, meta: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    tensors = {}
    with torch.no_grad():
        for name, (a, b) in adapters.items():
            b.normal_()
            tensors[f"lora.{name}.A"], tensors[f"lora.{name}.B"] = a.detach().clone(), b.detach().clone()
        for name, parameter in norms.items():
            parameter.add_(0.5)
            tensors[f"param.{name}"] = parameter.detach().clone()
        tensors["head.weight"] = head.weight.detach().clone()
        tensors["head.bias"] = head.bias.detach().clone()
    save_file(tensors, str(path), metadata={"rag": json.dumps(meta)})


def test_a_saved_adapter_loads_back_into_a_fresh_fit(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from benchmarks.fit_reranker import load_init

    _, saved_adapters, saved_norms, saved_head = _tiny_fit()
    path = tmp_path / "adapter.safetensors"
    _save(path, saved_adapters, saved_norms, saved_head, {"rank": 4, "first_layer": 1, "scale": 2.0, "steps": 7})
    _, adapters, norms, head = _tiny_fit()
    torch.manual_seed(1)
    torch.nn.init.normal_(head.weight)
    assert not torch.equal(head.weight, saved_head.weight)
    meta = load_init(path, adapters, norms, head, _args())
    assert meta["steps"] == 7
    for name, (a, b) in adapters.items():
        assert torch.equal(a, saved_adapters[name][0]) and torch.equal(b, saved_adapters[name][1])
        assert b.abs().sum() > 0  # the saved update, not a fresh zero one
    for name, parameter in norms.items():
        assert torch.equal(parameter, saved_norms[name])
    assert torch.equal(head.weight, saved_head.weight)


def test_an_adapter_fitted_another_way_is_refused_naming_the_field(tmp_path: Path) -> None:
    from benchmarks.fit_reranker import load_init

    _, saved_adapters, saved_norms, saved_head = _tiny_fit()
    path = tmp_path / "rank4.safetensors"
    _save(path, saved_adapters, saved_norms, saved_head, {"rank": 4, "first_layer": 1, "scale": 2.0})
    _, adapters, norms, head = _tiny_fit(rank=2)
    with pytest.raises(SystemExit, match=r"rank4\.safetensors: rank is 4, but this fit uses 2"):
        load_init(path, adapters, norms, head, _args(rank=2))
    _, adapters, norms, head = _tiny_fit(first_layer=0)
    with pytest.raises(SystemExit, match="first_layer is 1, but this fit uses 0"):
        load_init(path, adapters, norms, head, _args(first_layer=0))


def test_a_missing_or_damaged_init_file_is_an_error_naming_it(tmp_path: Path) -> None:
    from benchmarks.fit_reranker import load_init

    _, adapters, norms, head = _tiny_fit()
    with pytest.raises(SystemExit, match=r"--init: reranker adapter .*absent\.safetensors is missing"):
        load_init(tmp_path / "absent.safetensors", adapters, norms, head, _args())
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"not a safetensors file")
    with pytest.raises(SystemExit, match=r"damaged\.safetensors cannot be read"):
        load_init(damaged, adapters, norms, head, _args())
