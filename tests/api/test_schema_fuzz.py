"""Schemathesis against the service's own OpenAPI schema: no 5xx, every response as documented."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from rag.config import Settings
from rag.pipeline import build_pipeline
from tests.conftest import SEEDS

KEY = "fuzz-write-key"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _app(root: Path) -> object:
    shutil.copytree(SEEDS, root / "seeds")
    fuzz_settings = Settings(  # type: ignore[call-arg]
        seeds_dir=root / "seeds",
        index_dir=root / "index" / "default",
        model="hashing",
        abstain_threshold=0.15,
        write_keys=KEY,
        max_documents_per_write=5,
        max_document_chars=5_000,
        _env_file=None,
    )
    return create_app(fuzz_settings, pipeline=build_pipeline(fuzz_settings))


# Built when the module is imported: schemathesis' lazy (fixture-based) loader does not run under pytest 9.
_ROOT = Path(tempfile.mkdtemp(prefix="rag-fuzz-"))
atexit.register(shutil.rmtree, _ROOT, True)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app(_ROOT))
# Valid and invalid requests alike (wrong types, missing fields, out-of-range numbers): never a 5xx.
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema_with_a_write_key(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema_without_a_key(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
