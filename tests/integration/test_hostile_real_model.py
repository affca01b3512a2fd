"""The hostile strings against the real model's tokenizer (the lone surrogate used to be a 500 there)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.test_hostile_input import HOSTILE

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_real_model_answers_hostile_strings_with_200_or_a_4xx_message(real_client: TestClient, text: str) -> None:
    response = real_client.post(
        "/ask", content=json.dumps({"question": text}), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 or (400 <= response.status_code < 500 and response.json()["detail"])
    search = real_client.get("/search", params={"q": text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")})
    assert search.status_code == 200 or (400 <= search.status_code < 500 and search.json()["detail"])
