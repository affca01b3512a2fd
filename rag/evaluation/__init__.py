"""Score composed answers against gold question/answer pairs."""

from rag.evaluation.evaluate import EvaluationReport, QuestionResult, evaluate, sweep_thresholds
from rag.evaluation.gold import GoldError, GoldItem, faq_gold_items, load_gold
from rag.evaluation.metrics import contains_gold, ndcg_at_k, normalize_answer, rouge_l, token_f1

__all__ = [
    "EvaluationReport",
    "GoldError",
    "GoldItem",
    "QuestionResult",
    "contains_gold",
    "evaluate",
    "faq_gold_items",
    "load_gold",
    "ndcg_at_k",
    "normalize_answer",
    "rouge_l",
    "sweep_thresholds",
    "token_f1",
]
