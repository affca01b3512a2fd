"""Fit the cross-encoder reranker's adapter (``rag/models/reranker.safetensors``) and report held-out figures.

Input: the pairs written by ``benchmarks/rerank_pairs.py`` (SQuAD even-numbered articles and
RealtimeQA weeks outside the benchmark's). Whole groups (a SQuAD article, a news week) are held
out, never single questions; the figures printed are on the held-out groups, scored by the very
adapter that is shipped (it never saw them). The bundled all-MiniLM-L6-v2 stays frozen: only
low-rank updates of its linear layers, its layer norms and a scoring head over mean-pooled tokens
are fitted, so the shipped file is small and the base weights come from the installed package.

Loss per batch of whole questions: binary cross-entropy on every pair (so the sigmoid is a
probability the abstention can use) plus a listwise softmax term over each answerable question's
candidates (so the answering sentence is ranked first).

    python -m benchmarks.fit_reranker --pairs /tmp/ce/pairs.jsonl [--write-model]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import console, run_main, utc_date
from benchmarks.fit_ranker import MAX_WRONGLY_ABSTAINED, choose_thresholds
from rag.embedding import bundled_model_path
from rag.reranker import DEFAULT_RERANKER, mean_pool

MODEL_PATH = Path(__file__).resolve().parents[1] / "rag" / "models" / DEFAULT_RERANKER
TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


@dataclass
class QuestionPairs:
    group: str
    question: str
    passages: list[str]
    labels: list[int]
    ranker: list[float]
    answerable: bool


def read_pairs(path: Path) -> list[QuestionPairs]:
    """Pairs grouped back into questions (one per question and answerable/twin variant)."""
    grouped: dict[tuple[str, str, bool], QuestionPairs] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            key = (row["group"], row["question"], bool(row["answerable"]))
            item = grouped.setdefault(key, QuestionPairs(row["group"], row["question"], [], [], [], key[2]))
            item.passages.append(row["passage"])
            item.labels.append(int(row["label"]))
            # BM25-candidate news pairs carry no ranker score; they are only fitted on, never held out.
            item.ranker.append(0.5 if row["ranker"] is None else float(row["ranker"]))
    return list(grouped.values())


def held_out_group(group: str, share: float, seed: int) -> bool:
    if group.startswith("news:"):
        return False
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def in_fitted_layer(name: str, first_layer: int) -> bool:
    """Whether parameter or module ``name`` belongs to an encoder layer at or above ``first_layer``."""
    parts = name.split(".")
    if "layer" not in parts:
        return False
    index = parts.index("layer") + 1
    return index < len(parts) and parts[index].isdigit() and int(parts[index]) >= first_layer


def add_lora(model: Any, rank: int, alpha: float, first_layer: int = 0) -> dict[str, tuple[Any, Any]]:
    """Replace every target linear layer's forward with ``W x + B A x * alpha / rank``; returns the A, B pairs.

    Only layers from ``first_layer`` up are adapted: the layers below need no backward pass then."""
    import torch
    from torch import nn

    scale = alpha / rank
    adapters: dict[str, tuple[Any, Any]] = {}
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear) or not any(name.endswith(t) for t in TARGETS):
            continue
        if not in_fitted_layer(name, first_layer):
            continue
        a = nn.Parameter(torch.randn(rank, module.in_features) / math.sqrt(module.in_features))
        b = nn.Parameter(torch.zeros(module.out_features, rank))
        module.register_parameter("lora_A", a)
        module.register_parameter("lora_B", b)

        def forward(x: Any, layer: Any = module) -> Any:
            base = nn.functional.linear(x, layer.weight, layer.bias)
            return base + (x @ layer.lora_A.T @ layer.lora_B.T) * scale

        module.forward = forward
        adapters[name] = (a, b)
    return adapters


def batches(items: Sequence[QuestionPairs], pairs_per_batch: int, rng: random.Random) -> list[list[QuestionPairs]]:
    order = list(items)
    rng.shuffle(order)
    out: list[list[QuestionPairs]] = []
    current: list[QuestionPairs] = []
    size = 0
    for item in order:
        if current and size + len(item.passages) > pairs_per_batch:
            out.append(current)
            current, size = [], 0
        current.append(item)
        size += len(item.passages)
    if current:
        out.append(current)
    return out


def score_items(model: Any, head: Any, tokenizer: Any, items: Sequence[QuestionPairs], max_length: int) -> list[Any]:
    import torch

    out = []
    model.eval()
    with torch.inference_mode():
        for item in items:
            encoded = tokenizer(
                [item.question] * len(item.passages),
                item.passages,
                padding=True,
                truncation="longest_first",
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = model(**encoded).last_hidden_state
            out.append(head(mean_pool(hidden, encoded["attention_mask"])).squeeze(-1).double().numpy())
    model.train()
    return out


def report(items: Sequence[QuestionPairs], scores: Sequence[np.ndarray], label: str) -> dict[str, float]:
    """hit@1 of the ranker's order and of the reranker's, and how well the best score separates twins."""
    figures: dict[str, float] = {}
    for source in sorted({i.group.split(":")[0] for i in items}):
        chosen = [(i, s) for i, s in zip(items, scores, strict=True) if i.group.startswith(source)]
        answerable = [(i, s) for i, s in chosen if i.answerable and any(i.labels)]
        if not answerable:
            continue
        base = float(np.mean([i.labels[int(np.argmax(i.ranker))] for i, _ in answerable]))
        hit = float(np.mean([i.labels[int(np.argmax(s))] for i, s in answerable]))
        best = np.asarray([float(np.max(s)) for i, s in chosen])
        is_answerable = np.asarray([i.answerable for i, _ in chosen])
        auc = _auc(is_answerable, best)
        console.print(
            f"{label} {source}: {len(answerable)} answerable questions; hit@1 ranker {base:.3f} -> reranker {hit:.3f}; "
            f"answerable-vs-twin AUC of the best score {auc:.3f}"
        )
        figures[f"{source}_hit_ranker"] = base
        figures[f"{source}_hit_reranker"] = hit
        figures[f"{source}_auc"] = auc
    return figures


def prior_blend(items: Sequence[QuestionPairs], scores: Sequence[np.ndarray]) -> dict[float, float]:
    """hit@1 of ``reranker logit + w * ranker logit`` on answerable questions, for a few ``w``."""
    answerable = [(i, s) for i, s in zip(items, scores, strict=True) if i.answerable and any(i.labels)]
    out = {}
    for weight in (0.0, 0.25, 0.5, 1.0, 2.0):
        hits = []
        for item, score in answerable:
            prior = np.clip(np.asarray(item.ranker), 1e-6, 1 - 1e-6)
            blended = score + weight * np.log(prior / (1 - prior))
            hits.append(item.labels[int(np.argmax(blended))])
        out[weight] = float(np.mean(hits))
    return out


def thresholds(items: Sequence[QuestionPairs], scores: Sequence[np.ndarray], depth: int) -> tuple[float, float]:
    """Answer and partial thresholds on the best probability among the first ``depth`` candidates
    (answerable questions against their twins with the answer taken out)."""
    best = np.asarray([float(np.max(1 / (1 + np.exp(-s[:depth])))) for s in scores])
    labels = np.asarray([int(i.answerable) for i in items])
    return choose_thresholds(labels, best, MAX_WRONGLY_ABSTAINED)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    positives, negatives = scores[labels], scores[~labels]
    if not positives.size or not negatives.size:
        return float("nan")
    greater = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return float(greater + 0.5 * ties)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_reranker", description=__doc__)
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--held-out", type=float, default=0.15, help="share of groups held out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32.0)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-pairs", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--first-layer", type=int, default=2, help="adapt encoder layers from this one up (0-5)")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0 = the epochs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--depth", type=int, default=8, help="candidates the service re-scores (for the thresholds)")
    parser.add_argument("--eval-every", type=int, default=400)
    parser.add_argument("--out", type=Path, default=Path("/tmp/reranker.safetensors"))
    parser.add_argument(
        "--evaluate", type=Path, default=None, help="no fitting: score this adapter on the held-out groups"
    )
    parser.add_argument(
        "--init", type=Path, default=None, help="start from this adapter's weights (same --rank and --first-layer)"
    )
    parser.add_argument(
        "--skip-steps",
        type=int,
        default=0,
        help="skip the first N batches of the shuffled plan (with --init: continue where that fit stopped)",
    )
    parser.add_argument("--write-model", action="store_true", help=f"also write the adapter to {MODEL_PATH}")
    return parser


def load_init(
    path: Path, adapters: dict[str, tuple[Any, Any]], norms: dict[str, Any], head: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """Copy a saved adapter's low-rank updates, norms and head into the fresh ones; returns its metadata.

    A file fitted with another rank, scale or first layer is refused, naming the file and the field."""
    import torch

    from rag.reranker import RerankerError, read_adapter

    try:
        tensors, meta = read_adapter(path, str(path))
    except RerankerError as exc:
        raise SystemExit(f"error: --init: {exc}") from exc
    expected = {"rank": args.rank, "first_layer": args.first_layer, "scale": args.alpha / args.rank}
    for field, value in expected.items():
        if field in meta and meta[field] != value:
            raise SystemExit(f"{path}: {field} is {meta[field]}, but this fit uses {value}")
    with torch.no_grad():
        for name, (a, b) in adapters.items():
            if f"lora.{name}.A" not in tensors:
                raise SystemExit(f"{path} has no low-rank update for {name}")
            a.copy_(tensors[f"lora.{name}.A"].float())
            b.copy_(tensors[f"lora.{name}.B"].float())
        for name, parameter in norms.items():
            parameter.copy_(tensors[f"param.{name}"].float())
        head.weight.copy_(tensors["head.weight"].float())
        head.bias.copy_(tensors["head.bias"].float())
    return meta


def held_out_meta(
    held: Sequence[QuestionPairs], scores: Sequence[np.ndarray], depth: int, label: str
) -> dict[str, Any]:
    """Print the held-out figures of ``scores`` and return them as the adapter's metadata fields."""
    figures = report(held, scores, label)
    blend = prior_blend(held, scores)
    console.print(
        "held out hit@1 with the ranker's logit blended in: " + ", ".join(f"w={w}: {h:.3f}" for w, h in blend.items())
    )
    answer_t, partial_t = thresholds(held, scores, depth)
    console.print(f"held out thresholds: answer >= {answer_t:.2f}, partial >= {partial_t:.2f}")
    return {
        "held_out": {k: round(v, 4) for k, v in figures.items()},
        "held_out_blend_hit_at_1": {str(w): round(h, 4) for w, h in blend.items()},
        "answer_threshold": answer_t,
        "partial_threshold": partial_t,
        "threshold_depth": depth,
    }


def save_adapter(tensors: dict[str, Any], meta: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the adapter, its metadata digested, to ``--out`` (and the shipped path with ``--write-model``)."""
    from safetensors.torch import save_file

    meta = {k: v for k, v in meta.items() if k != "digest"}
    meta["digest"] = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:12]
    for target in [args.out] + ([MODEL_PATH] if args.write_model else []):
        save_file(tensors, str(target), metadata={"rag": json.dumps(meta)})
        console.print(f"adapter written to {target} ({target.stat().st_size / 1e6:.2f} MB)")


def evaluate_adapter(args: argparse.Namespace, held: Sequence[QuestionPairs]) -> int:
    """Score the held-out groups with a saved adapter through the serving path (merged weights), and
    write it back with the held-out figures and thresholds in its metadata."""
    from rag.reranker import CrossEncoderReranker

    reranker = CrossEncoderReranker(args.evaluate, threads=args.threads)
    started = time.perf_counter()
    scores = [reranker.logits(i.question, i.passages) for i in held]
    console.print(
        f"scored {sum(len(i.passages) for i in held)} held-out pairs in {time.perf_counter() - started:.1f} s"
    )
    from safetensors.torch import load_file, safe_open

    tensors = load_file(str(args.evaluate))
    with safe_open(str(args.evaluate), framework="pt") as handle:
        meta = json.loads((handle.metadata() or {}).get("rag", "{}"))
    meta.update(held_out_meta(held, scores, args.depth, "held out (serving path)"))
    save_adapter(tensors, meta, args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    args = build_parser().parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    items = read_pairs(args.pairs)
    train = [i for i in items if not held_out_group(i.group, args.held_out, args.seed)]
    held = [i for i in items if held_out_group(i.group, args.held_out, args.seed)]
    console.print(
        f"{len(items)} questions ({sum(len(i.passages) for i in items)} pairs); "
        f"{len(train)} train, {len(held)} held out in {len({i.group for i in held})} groups"
    )
    if args.evaluate is not None:
        return evaluate_adapter(args, held)
    source = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    model = AutoModel.from_pretrained(str(source), local_files_only=True)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    norms = {n: p for n, p in model.named_parameters() if "LayerNorm" in n and in_fitted_layer(n, args.first_layer)}
    for parameter in norms.values():
        parameter.requires_grad_(True)
    adapters = add_lora(model, args.rank, args.alpha, args.first_layer)
    head = nn.Linear(model.config.hidden_size, 1)
    init_meta = load_init(args.init, adapters, norms, head, args) if args.init is not None else {}
    trainable = [p for ab in adapters.values() for p in ab] + list(norms.values()) + list(head.parameters())
    optimiser = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    plan = [b for _ in range(math.ceil(args.epochs)) for b in batches(train, args.batch_pairs, rng)]
    if args.skip_steps < 0 or args.skip_steps >= len(plan):
        raise SystemExit(f"--skip-steps must be between 0 and {len(plan) - 1}, not {args.skip_steps}")
    plan = plan[args.skip_steps :]
    total = int(len(plan) * (args.epochs / math.ceil(args.epochs)))
    if args.max_steps:
        total = min(total, args.max_steps)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup))
    )
    bce = nn.BCEWithLogitsLoss()
    eval_items = held
    model.train()
    started = time.perf_counter()
    for step, batch in enumerate(plan[:total]):
        questions = [i.question for i in batch for _ in i.passages]
        passages = [p for i in batch for p in i.passages]
        labels = torch.tensor([float(y) for i in batch for y in i.labels])
        encoded = tokenizer(
            questions,
            passages,
            padding=True,
            truncation="longest_first",
            max_length=args.max_length,
            return_tensors="pt",
        )
        hidden = model(**encoded).last_hidden_state
        logits = head(mean_pool(hidden, encoded["attention_mask"])).squeeze(-1)
        loss = bce(logits, labels)
        offset = 0
        listwise = []
        for item in batch:
            part = logits[offset : offset + len(item.passages)]
            gold = labels[offset : offset + len(item.passages)]
            offset += len(item.passages)
            if gold.sum() > 0:
                log_p = part.log_softmax(0)
                listwise.append(-torch.logsumexp(log_p[gold > 0], 0))
        if listwise:
            loss = loss + torch.stack(listwise).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if step % 50 == 0:
            elapsed = time.perf_counter() - started
            console.print(f"step {step}/{total} loss {float(loss.detach()):.4f} ({elapsed / (step + 1):.2f} s/step)")
        if args.eval_every and step and step % args.eval_every == 0:
            report(eval_items, score_items(model, head, tokenizer, eval_items, args.max_length), f"step {step}")
    elapsed = time.perf_counter() - started
    held_scores = score_items(model, head, tokenizer, eval_items, args.max_length)
    scale = args.alpha / args.rank
    tensors = {}
    for name, (a, b) in adapters.items():
        tensors[f"lora.{name}.A"] = a.detach().to(torch.float16).contiguous()
        tensors[f"lora.{name}.B"] = b.detach().to(torch.float16).contiguous()
    for name, parameter in norms.items():
        tensors[f"param.{name}"] = parameter.detach().clone().contiguous()
    tensors["head.weight"] = head.weight.detach().clone().contiguous()
    tensors["head.bias"] = head.bias.detach().clone().contiguous()
    meta = {
        "scale": scale,
        "rank": args.rank,
        "targets": list(TARGETS),
        "pooling": "mean",
        "max_length": args.max_length,
        "first_layer": args.first_layer,
        "fitted_on": f"{len(train)} questions of {args.pairs.name} ({len({i.group for i in train})} groups)",
        **held_out_meta(eval_items, held_scores, args.depth, "held out"),
        "steps": total + int(init_meta.get("steps", 0)),
        "continued_from": init_meta.get("digest"),
        "lr": args.lr,
        "seed": args.seed,
        "training_seconds": round(elapsed, 1),
        "date": utc_date(),
    }
    save_adapter(tensors, meta, args)
    return 0


if __name__ == "__main__":
    run_main(main)
