from __future__ import annotations

from rag.pipeline import ASK_STAGES, QAPipeline
from rag.serialize import answer_to_dict

QUESTION = "When is the meeting of Chiefs of the General Staff?"


def test_ask_times_each_stage_in_order_without_changing_the_answer(fake_pipeline: QAPipeline) -> None:
    timings: dict[str, float] = {}
    timed = fake_pipeline.ask(QUESTION, timings=timings)
    assert tuple(timings) == ASK_STAGES
    assert all(ms >= 0 for ms in timings.values())
    assert timings["passages"] > 0 and timings["compose"] > 0
    assert answer_to_dict(timed) == answer_to_dict(fake_pipeline.ask(QUESTION))


def test_ask_without_a_timings_dict_records_nothing(fake_pipeline: QAPipeline) -> None:
    timings: dict[str, float] = {"kept": 1.0}
    fake_pipeline.ask(QUESTION, timings=None)
    assert timings == {"kept": 1.0}
