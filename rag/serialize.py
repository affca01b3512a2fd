"""Plain-data shapes of the library's results, for JSON output (``rag ask --json``) and for the
HTTP API, whose response models (``api.schemas``) validate exactly these dictionaries."""

from __future__ import annotations

from typing import Any

from rag.answer import Answer

__all__ = ["answer_to_dict"]


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """The answer as JSON-ready data, keys in the order of the API's ``AskResponse``."""
    short = answer.short_answer
    return {
        "question": answer.question,
        "answer": answer.answer,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "support": answer.support,
        "answer_type": answer.answer_type,
        "short_answer": (
            None
            if short is None
            else {"text": short.text, "doc_id": short.doc_id, "start": short.start, "end": short.end}
        ),
        "sentences": [{"text": s.text, "citations": list(s.citations)} for s in answer.sentences],
        "citations": [
            {
                "id": c.id,
                "doc_id": c.doc_id,
                "title": c.title,
                "source": c.source,
                "url": c.url,
                "text": c.text,
                "start": c.start,
                "end": c.end,
                "score": c.score,
            }
            for c in answer.citations
        ],
    }
