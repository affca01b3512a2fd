"""The cross-encoder reranker: re-scoring, the adapter's merge, bad adapter files, and the shipped one."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.answer import AnswerComposer, ComposerParams
from rag.documents import Sentence
from rag.reranker import (
    CrossEncoderReranker,
    Reranker,
    RerankerError,
    merge_adapter,
    pair_text,
    ranker_lead,
    rerank_sentences,
)
from rag.retrieval import ScoredSentence


class KeywordReranker:
    """Scores a passage by whether it holds a keyword: enough to see the order change."""

    def __init__(self, keyword: str) -> None:
        self.keyword = keyword
        self.seen: list[list[str]] = []

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray:
        self.seen.append(list(passages))
        return np.asarray([3.0 if self.keyword in p else -3.0 for p in passages])


def _ranked(texts: Sequence[str]) -> list[ScoredSentence]:
    out = []
    for row, text in enumerate(texts):
        sentence = Sentence(doc_id="d", start=row * 100, end=row * 100 + len(text), text=text)
        out.append(ScoredSentence(row, sentence, 0.9 - 0.1 * row, 0.5, 1.0, 1.0, probability=0.9 - 0.1 * row))
    return out


def test_rerank_puts_the_answering_sentence_first_and_keeps_the_rest_after() -> None:
    ranked = _ranked(["no answer here", "still nothing", "the answer is Türkiye", "past the depth, Türkiye"])
    reranker = KeywordReranker("Türkiye")
    assert isinstance(reranker, Reranker)
    out = rerank_sentences("who helps?", ranked, reranker, lambda doc_id: "Title", depth=3)
    assert [s.row for s in out] == [2, 0, 1, 3]
    assert reranker.seen == [[pair_text("Title", s.sentence.text) for s in ranked[:3]]]
    assert out[0].rerank == pytest.approx(1 / (1 + np.exp(-3.0)))
    assert out[3].rerank is None  # past the depth: not re-scored ...
    assert out[3].score <= out[2].score  # ... and never ahead of a re-scored sentence


def test_rerank_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        rerank_sentences("q", _ranked(["a"]), KeywordReranker("a"), lambda d: "", depth=0)


def _with_probabilities(probabilities: Sequence[float]) -> list[ScoredSentence]:
    ranked = _ranked([f"sentence {i}" + (" Türkiye" if i == len(probabilities) - 1 else "") for i in range(3)])
    return [replace(s, probability=p, score=p) for s, p in zip(ranked, probabilities, strict=True)]


def test_a_clear_ranker_lead_keeps_the_order_without_running_the_reranker() -> None:
    clear = _with_probabilities([0.95, 0.30, 0.20])  # lead: logit(0.95) - logit(0.30) = 3.79
    assert ranker_lead(clear) == pytest.approx(np.log(0.95 / 0.05) - np.log(0.30 / 0.70))
    reranker = KeywordReranker("Türkiye")
    kept = rerank_sentences("q", clear, reranker, lambda d: "", depth=3, prior_weight=1.0, skip_margin=3.0)
    assert [s.row for s in kept] == [0, 1, 2]
    assert reranker.seen == []  # the cross-encoder never ran
    assert all(s.rerank is None for s in kept)


def test_a_close_ranker_lead_still_reranks() -> None:
    close = _with_probabilities([0.55, 0.50, 0.45])
    reranker = KeywordReranker("Türkiye")
    out = rerank_sentences("q", close, reranker, lambda d: "", depth=3, prior_weight=1.0, skip_margin=3.0)
    assert out[0].row == 2
    assert len(reranker.seen) == 1


def test_the_skip_margin_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="skip_margin"):
        rerank_sentences("q", _ranked(["a", "b"]), KeywordReranker("a"), lambda d: "", depth=2, skip_margin=-1)


def test_the_composer_reads_the_reranker_confidence_with_its_own_thresholds() -> None:
    params = ComposerParams(
        abstain_threshold=0.9, rerank_confidence=True, rerank_answer_threshold=0.4, rerank_partial_threshold=0.1
    )
    served = AnswerComposer.thresholds_for(params, reranked=True)
    assert (served.abstain_threshold, served.partial_threshold) == (0.4, 0.1)
    assert AnswerComposer.thresholds_for(params, reranked=False) is params
    ranked = rerank_sentences("q", _ranked(["x", "Türkiye"]), KeywordReranker("Türkiye"), lambda d: "", depth=2)
    composer = AnswerComposer.__new__(AnswerComposer)
    composer.answerability = None
    assert composer.confidence(ranked, params) == pytest.approx(1 / (1 + np.exp(-3.0)), abs=1e-4)


def test_the_reranked_best_score_raises_the_blend_confidence_as_a_noisy_or() -> None:
    composer = AnswerComposer.__new__(AnswerComposer)
    composer.answerability = None
    # A saturation fixed at 6.0 whatever the corpus size (this composer has no corpus).
    params = functools.partial(ComposerParams, lexical_saturation_passages=0)
    ranked = [replace(s, passage_lexical=3.0) for s in _ranked(["x", "Türkiye"])]
    alone = params(confidence_rerank_weight=0.0)
    blend = 0.1 * 0.5 + 0.9 * 3.0 / (3.0 + 6.0)
    assert composer.confidence(ranked, alone) == pytest.approx(blend, abs=1e-4)
    reranked = rerank_sentences("q", ranked, KeywordReranker("Türkiye"), lambda d: "", depth=2)
    best = reranked[0].score
    assert composer.confidence(reranked, alone) == pytest.approx(blend, abs=1e-4)
    noisy_or = composer.confidence(reranked, params(confidence_rerank_weight=1.0))
    assert noisy_or == pytest.approx(blend + best * (1 - blend), abs=1e-4)
    half = composer.confidence(reranked, params(confidence_rerank_weight=0.5))
    assert blend < half < noisy_or < 1.0
    # Without a reranker the weight has nothing to read.
    assert composer.confidence(ranked, params(confidence_rerank_weight=1.0)) == pytest.approx(blend, abs=1e-4)


def test_the_rerank_weight_of_the_confidence_is_checked() -> None:
    with pytest.raises(ValueError, match="confidence_rerank_weight"):
        ComposerParams(confidence_rerank_weight=1.5)


def test_merging_the_adapter_gives_the_model_it_was_fitted_as() -> None:
    """Serving merges ``B @ A * scale`` into the weights; the fitted model added it at every forward."""
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel

    from benchmarks.fit_reranker import add_lora

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    fitted = BertModel(config).eval()
    served = BertModel(config).eval()
    served.load_state_dict(fitted.state_dict())
    adapters = add_lora(fitted, rank=4, alpha=8.0, first_layer=1)
    assert adapters and all(".layer.1." in name for name in adapters)
    tensors = {}
    for name, (a, b) in adapters.items():
        with torch.no_grad():
            b.normal_()  # a fitted B is non-zero; at initialisation it is zero
        tensors[f"lora.{name}.A"], tensors[f"lora.{name}.B"] = a.detach(), b.detach()
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    with torch.no_grad():
        expected = fitted(input_ids=ids).last_hidden_state
        before = served(input_ids=ids).last_hidden_state
        merge_adapter(served, tensors, 8.0 / 4, "test adapter")
        merged = served(input_ids=ids).last_hidden_state
    assert not torch.allclose(before, expected, atol=1e-3)
    assert torch.allclose(merged, expected, atol=1e-4)


def test_an_adapter_for_another_model_is_refused_by_name() -> None:
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel

    model = BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2))
    with pytest.raises(RerankerError, match=r"does not fit.*encoder\.layer\.7"):
        merge_adapter(
            model,
            {
                "lora.encoder.layer.7.attention.self.query.A": torch.zeros(2, 16),
                "lora.encoder.layer.7.attention.self.query.B": torch.zeros(16, 2),
            },
            1.0,
            "x.safetensors",
        )


def test_a_truncated_or_missing_adapter_fails_loudly_and_names_the_file(tmp_path: Path) -> None:
    shipped = CrossEncoderReranker().adapter_path
    truncated = tmp_path / "reranker.safetensors"
    truncated.write_bytes(shipped.read_bytes()[:1000])
    with pytest.raises(RerankerError, match=re.escape(str(truncated))):
        CrossEncoderReranker(truncated).warm_up()
    with pytest.raises(RerankerError, match=r"missing\.safetensors is missing"):
        CrossEncoderReranker(tmp_path / "missing.safetensors").warm_up()


@pytest.mark.slow
def test_the_shipped_reranker_prefers_the_sentence_that_answers() -> None:
    reranker = CrossEncoderReranker()
    question = "Which country has been helping to bring the prisoners home?"
    passages = [
        pair_text("Prisoner exchange", "The exchange took place on the border with Belarus on Friday."),
        pair_text("Prisoner exchange", "Türkiye is helping us greatly to return our people, Zelensky said."),
        pair_text("Prisoner exchange", "Both sides have accused each other of delaying the talks."),
    ]
    probabilities = reranker.probabilities(question, passages)
    assert probabilities.shape == (3,)
    assert int(np.argmax(probabilities)) == 1
    assert reranker.meta.get("digest") and reranker.name.endswith(reranker.meta["digest"])


@pytest.mark.slow
def test_the_onnx_export_scores_like_the_torch_model_and_is_reused(tmp_path: Path) -> None:
    passages = [
        pair_text("Exchange", "Türkiye is helping us greatly, Zelensky said."),
        pair_text("", "The talks resumed in Istanbul on Monday after a pause of several weeks in May."),
    ]
    question = "Who is helping?"
    torch_logits = CrossEncoderReranker(runtime="torch").logits(question, passages)
    onnx = CrossEncoderReranker(runtime="onnx", cache_dir=tmp_path)
    assert np.allclose(onnx.logits(question, passages), torch_logits, atol=1e-3)
    exported = sorted(tmp_path.glob("reranker-*.onnx"))
    assert len(exported) == 1 and onnx.meta["digest"] in exported[0].name
    stamp = exported[0].stat().st_mtime_ns
    again = CrossEncoderReranker(runtime="onnx", cache_dir=tmp_path)
    assert np.allclose(again.logits(question, passages), torch_logits, atol=1e-3)
    assert exported[0].stat().st_mtime_ns == stamp  # loaded, not exported again
    exported[0].write_bytes(b"damaged")
    assert np.allclose(
        CrossEncoderReranker(runtime="onnx", cache_dir=tmp_path).logits(question, passages), torch_logits, atol=1e-3
    )
    # A question longer than the pair's token budget is cut too (it used to raise a truncation error).
    long_question = "Which country is helping to bring the prisoners of war home " + "after the talks " * 60 + "?"
    long_onnx, long_torch = onnx.logits(long_question, passages), CrossEncoderReranker().logits(long_question, passages)
    assert long_onnx.shape == (2,) and np.allclose(long_onnx, long_torch, atol=1e-3)


@pytest.mark.slow
def test_the_int8_graph_is_quantised_once_and_keeps_the_answer_first(tmp_path: Path) -> None:
    question = "Which country is helping bring the prisoners home?"
    passages = [
        pair_text("Exchange", "Türkiye is helping us greatly in this, the president said."),
        pair_text("Exchange", "The weather in Kyiv was cold on Monday."),
        pair_text("Exchange", "The second round of talks was held on June 2 in Istanbul."),
    ]
    fp32 = CrossEncoderReranker(runtime="onnx", cache_dir=tmp_path).logits(question, passages)
    int8 = CrossEncoderReranker(runtime="onnx-int8", cache_dir=tmp_path)
    quantised = int8.logits(question, passages)
    graphs = sorted(p.name for p in tmp_path.glob("reranker-*.onnx"))
    digest = int8.meta["digest"]
    assert graphs == [f"reranker-{digest}-int8.onnx", f"reranker-{digest}.onnx"]
    int8_graph = tmp_path / graphs[0]
    assert int8_graph.stat().st_size < 0.5 * (tmp_path / graphs[1]).stat().st_size
    assert not np.array_equal(quantised, fp32)  # really another graph ...
    assert np.allclose(quantised, fp32, atol=1.0)  # ... scoring close to the fp32 one
    # The two distractors score within 0.03 of each other in fp32, inside int8's rounding, so only the
    # order that fp32 separates clearly is asked of int8: the answer stays first.
    assert int(np.argmax(fp32)) == int(np.argmax(quantised)) == 0
    assert all(quantised[0] - quantised[i] > 0.5 for i in (1, 2))
    stamp = int8_graph.stat().st_mtime_ns
    again = CrossEncoderReranker(runtime="onnx-int8", cache_dir=tmp_path).logits(question, passages)
    assert np.array_equal(again, quantised) and int8_graph.stat().st_mtime_ns == stamp  # reused
    int8_graph.write_bytes(b"damaged")
    repaired = CrossEncoderReranker(runtime="onnx-int8", cache_dir=tmp_path).logits(question, passages)
    assert np.array_equal(repaired, quantised)  # quantised again from the fp32 graph


def test_a_graph_that_cannot_be_quantised_is_named_and_leaves_nothing_behind(tmp_path: Path) -> None:
    from rag.reranker import quantise_reranker_onnx

    graph = tmp_path / "reranker-0123456789ab.onnx"
    graph.write_bytes(b"not a graph")
    with pytest.raises(RerankerError, match=re.escape(f"cannot quantise the reranker graph {graph} to int8")):
        quantise_reranker_onnx(graph)
    assert sorted(p.name for p in tmp_path.iterdir()) == [graph.name]


@pytest.mark.parametrize("runtime", ["onnx", "onnx-int8"])
def test_the_onnx_runtimes_need_a_cache_dir(runtime: str) -> None:
    with pytest.raises(ValueError, match="cache_dir"):
        CrossEncoderReranker(runtime=runtime)  # type: ignore[arg-type]


def test_an_unknown_runtime_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="runtime must be one of torch, onnx, onnx-int8, not 'tensorrt'"):
        CrossEncoderReranker(runtime="tensorrt")  # type: ignore[arg-type]


def test_the_default_thresholds_are_the_ones_fitted_with_the_shipped_adapter() -> None:
    from rag.answer import DEFAULT_RERANK_ANSWER_THRESHOLD, DEFAULT_RERANK_PARTIAL_THRESHOLD
    from rag.reranker import read_adapter

    reranker = CrossEncoderReranker()
    _, meta = read_adapter(reranker.adapter_path, reranker.where)
    assert meta["answer_threshold"] == DEFAULT_RERANK_ANSWER_THRESHOLD
    assert meta["partial_threshold"] == DEFAULT_RERANK_PARTIAL_THRESHOLD
