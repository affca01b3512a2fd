#!/usr/bin/env bash
# Run the Dockerfile's steps on this host, for machines without a Docker engine.
#
#   bash scripts/docker_steps.sh            # from the repository root
#
# What it does, in a fresh temporary directory, like `docker build` and `docker run` would:
#   1. checks the build context: every COPY source exists;
#   2. makes a venv with the base image's Python (python3.X -m venv), installs torch first, then
#      the project's pinned dependencies (checking all of them install from wheels: the slim
#      image has no compiler), then the project itself, non-editable, and runs `pip check`;
#   3. copies seeds/ into an app directory and runs the Dockerfile's `rag index` step there,
#      with the runtime stage's environment and an unwritable HOME (the app user has none);
#   4. starts the Dockerfile's CMD (`rag serve`) on 127.0.0.1 and a free port, and polls the
#      Dockerfile's own HEALTHCHECK command until it passes (bounded by HEALTH_TIMEOUT);
#   5. checks /health (the baked index was loaded, not rebuilt), POST /ask (an answer whose every
#      citation is exactly document[start:end], fetched from GET /documents/{doc_id}), the page at
#      / and its static files (package data), /metrics and the JSON log lines; then stops the
#      server with SIGTERM as `docker stop` does.
#
# Read from the Dockerfile: the Python version (FROM python:X.Y-...), the torch pin, the runtime
# stage's ENV, WORKDIR, the `RUN rag index ...` step, HEALTHCHECK and CMD. Mirrored by hand (change
# both together): the builder's install commands and the /app layout. Unlike the image, torch is
# installed with plain `pip install torch==X` (only PyPI and local wheels are reachable here), not
# from the CPU wheel index.
#
# Environment:
#   VENV=DIR          use DIR as the venv: created when missing, reused (and kept) when present
#   KEEP_VENV=1       keep the temporary venv and print its path, to pass as VENV next time
#   PYTHON=python3.X  the interpreter that makes the venv (default: the base image's version)
#   HEALTH_TIMEOUT=S  seconds to wait for the health check (default 120)
#   QUESTION=...      the question asked (default: one the seeds answer)

set -euo pipefail
set -o errtrace   # the ERR trap below also fires inside functions and subshells

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERFILE="$REPO/Dockerfile"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"
QUESTION="${QUESTION:-How many Ukrainians does Kyiv hope to free?}"

STARTED=$(date +%s)
STEP_STARTED=$STARTED
STEP="start"
SERVER_PID=""
WORK=""

say() { printf '\n==> %s\n' "$*"; }
# pip, quiet: its output goes to a log that is shown only when it fails.
pip_quiet() {
    if ! "$VPY" -m pip "$@" > "$WORK/pip.log" 2>&1; then
        tail -n 40 "$WORK/pip.log" >&2
        fail "pip $* failed (log above)"
    fi
}
info() { printf '    %s\n' "$*"; }
fail() {
    printf '\ndocker_steps: FAILED at step "%s": %s\n' "$STEP" "$*" >&2
    exit 1
}
step() {
    local now
    now=$(date +%s)
    if [[ "$STEP" != "start" ]]; then info "($STEP: $((now - STEP_STARTED)) s)"; fi
    STEP="$1"
    STEP_STARTED=$now
    say "$1"
}

cleanup() {
    local status=$?
    set +e
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [[ $status -ne 0 && -n "$WORK" && -s "$WORK/serve.log" ]]; then
        printf '\n--- last lines of the server log (%s) ---\n' "$WORK/serve.log" >&2
        tail -n 30 "$WORK/serve.log" >&2
    fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        chmod -R u+w "$WORK" 2>/dev/null
        if [[ "${KEEP_VENV:-}" == 1 && -z "${VENV:-}" ]]; then
            find "$WORK" -mindepth 1 -maxdepth 1 ! -name venv -exec rm -rf {} +
            info "kept the venv: reuse it with VENV=$WORK/venv"
        else
            local removing
            removing=$(date +%s)
            rm -rf "$WORK"
            info "removed $WORK in $(($(date +%s) - removing)) s"
        fi
    fi
    if [[ $status -eq 0 ]]; then
        printf '\ndocker_steps: OK in %s s\n' "$(($(date +%s) - STARTED))"
    else
        printf '\ndocker_steps: FAILED (exit %s) after %s s\n' "$status" "$(($(date +%s) - STARTED))" >&2
    fi
}
trap cleanup EXIT
trap 'fail "command failed (line $LINENO): $BASH_COMMAND"' ERR

[[ -f "$DOCKERFILE" ]] || fail "no Dockerfile at $DOCKERFILE"

# ---------------------------------------------------------------------------------------------
step "read the Dockerfile"
# Prints shell assignments; the parsing is deliberately simple (one runtime stage, no ARG
# substitution in the values read here).
eval "$(python3 - "$DOCKERFILE" <<'PY'
import json, re, shlex, sys

text = open(sys.argv[1], encoding="utf-8").read()
# Join continuation lines, drop comments.
lines, current = [], ""
for raw in text.splitlines():
    stripped = raw.strip()
    if not current and (not stripped or stripped.startswith("#")):
        continue
    if stripped.startswith("#"):
        continue
    if stripped.endswith("\\"):
        current += stripped[:-1] + " "
        continue
    lines.append(current + stripped)
    current = ""
instructions = [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]

def out(name, value):
    print(f"{name}={shlex.quote(value)}")

froms = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
base = instructions[froms[0]][1].split()[0]
version = re.match(r"python:(\d+\.\d+)", base)
if not version:
    sys.exit(f"cannot read the Python version from the base image {base!r}")
out("PY_VERSION", version.group(1))
torch = re.search(r"\btorch==([\w.+]+)", text)
if not torch:
    sys.exit("cannot find the torch==X pin in the Dockerfile")
out("TORCH_VERSION", torch.group(1))

runtime = instructions[froms[-1]:]
env = []
for op, args in runtime:
    if op == "ENV":
        for token in shlex.split(args):
            key, _, value = token.partition("=")
            env.append(f"{key}={value}")
    elif op == "WORKDIR":
        out("IMAGE_WORKDIR", args)
    elif op == "RUN" and args.startswith("rag index"):
        out("INDEX_CMD", args)
    elif op == "HEALTHCHECK":
        out("HEALTH_CMD", json.dumps(json.loads(args.split("CMD", 1)[1])))
    elif op == "CMD":
        out("SERVE_CMD", json.dumps(json.loads(args)))
out("IMAGE_ENV", "\n".join(env))
PY
)" || fail "could not parse $DOCKERFILE"
for var in PY_VERSION TORCH_VERSION IMAGE_WORKDIR INDEX_CMD HEALTH_CMD SERVE_CMD IMAGE_ENV; do
    [[ -n "${!var:-}" ]] || fail "the Dockerfile has no value for $var (see the parser above)"
done
info "base Python $PY_VERSION, torch==$TORCH_VERSION, workdir $IMAGE_WORKDIR"
info "index step: $INDEX_CMD"
info "CMD: $SERVE_CMD"
PYTHON="${PYTHON:-python$PY_VERSION}"
command -v "$PYTHON" >/dev/null || fail "$PYTHON not found (the image uses Python $PY_VERSION; set PYTHON=...)"

# ---------------------------------------------------------------------------------------------
step "check the build context"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rag-docker-steps.XXXXXX")"
info "work directory: $WORK"
SRC="$WORK/src"
mkdir -p "$SRC"
# The builder's COPY sources (the runtime stage copies seeds/ separately, below).
for source in pyproject.toml README.md rag api seeds; do
    [[ -e "$REPO/$source" ]] || fail "$source is missing from the build context: docker build would fail at COPY"
    grep -Eq "^COPY( --chown=[^ ]+)? $source/? " "$DOCKERFILE" || fail "the Dockerfile no longer copies $source; update this script"
done
# Like COPY after .dockerignore: no caches, no build leftovers.
python3 - "$REPO" "$SRC" <<'PY'
import shutil, sys
from pathlib import Path

repo, src = Path(sys.argv[1]), Path(sys.argv[2])
ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.egg-info")
for name in ("pyproject.toml", "README.md"):
    shutil.copy2(repo / name, src / name)
for name in ("rag", "api"):
    shutil.copytree(repo / name, src / name, ignore=ignore)
PY
info "copied pyproject.toml README.md rag/ api/ to $SRC"
cd "$WORK"   # never import the project from the repository by accident

# ---------------------------------------------------------------------------------------------
step "create the venv (the builder's: python -m venv /opt/venv)"
if [[ -n "${VENV:-}" ]]; then
    VENV_DIR="$VENV"
else
    VENV_DIR="$WORK/venv"
fi
if [[ -x "$VENV_DIR/bin/python" ]]; then
    info "reusing $VENV_DIR"
else
    "$PYTHON" -m venv "$VENV_DIR"
    info "created $VENV_DIR with $("$VENV_DIR/bin/python" --version)"
fi
VPY="$VENV_DIR/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# ---------------------------------------------------------------------------------------------
step "install torch==$TORCH_VERSION first"
# The image: pip install --index-url https://download.pytorch.org/whl/cpu torch==X. Here only
# PyPI (and this machine's local CPU wheel) are reachable.
pip_quiet install "torch==$TORCH_VERSION"
TORCH_INFO="$("$VPY" -W ignore -c 'import torch; print(torch.__version__, "cuda" if torch.version.cuda else "cpu-only")')"
info "torch $TORCH_INFO"
[[ "$TORCH_INFO" == *cpu-only ]] || fail "torch is a CUDA build ($TORCH_INFO); the image must stay CPU-only"

# ---------------------------------------------------------------------------------------------
step "install the pinned dependencies from pyproject.toml"
(cd "$SRC" && "$VPY" -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))") \
    > "$WORK/requirements.txt"
pip_quiet install --report "$WORK/pip-report.json" -r "$WORK/requirements.txt"
# python:3.11-slim has no C compiler: everything must come as a wheel.
"$VPY" - "$WORK/pip-report.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
installed = report.get("install", [])
sdists = [item["metadata"]["name"] for item in installed
          if not item.get("download_info", {}).get("url", "").endswith(".whl")]
if sdists:
    sys.exit(f"these would be built from source, which python:3.11-slim cannot do: {', '.join(sdists)}")
print(f"    installed {len(installed)} distribution(s), all from wheels")
PY

# ---------------------------------------------------------------------------------------------
step "install the project (non-editable) and run pip check"
pip_quiet install --no-deps "$SRC"
"$VPY" -m pip check | sed 's/^/    /'
RAG="$VENV_DIR/bin/rag"
[[ -x "$RAG" ]] || fail "the rag entry point was not installed"
info "$("$RAG" --version) from $("$VPY" -c 'import rag; print(rag.__file__)')"
case "$("$VPY" -c 'import rag; print(rag.__file__)')" in
    "$REPO"/*) fail "rag is imported from the repository, not from the installed package" ;;
esac

# ---------------------------------------------------------------------------------------------
step "bake the index (the runtime stage's RUN $INDEX_CMD)"
APP="$WORK/app"
mkdir -p "$APP/index" "$WORK/home"
cp -R "$REPO/seeds" "$APP/seeds"
chmod 555 "$WORK/home"   # the app user's HOME (/app) is not writable either
# The runtime stage's ENV, with /app moved to the temporary app directory.
while IFS= read -r assignment; do
    key="${assignment%%=*}"
    value="${assignment#*=}"
    [[ "$key" == PATH ]] && continue
    value="${value//$IMAGE_WORKDIR/$APP}"
    export "$key=$value"
    info "$key=$value"
done <<< "$IMAGE_ENV"
export HOME="$WORK/home"
export PATH="$VENV_DIR/bin:$PATH"
cd "$APP"
# shellcheck disable=SC2086  # the Dockerfile's command, split into words as the shell form would
$INDEX_CMD
MANIFEST="$RAG_INDEX_DIR/manifest.json"
[[ -f "$MANIFEST" ]] || fail "no index manifest at $MANIFEST after '$INDEX_CMD'"
BUILT_AT="$("$VPY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["built_at"])' "$MANIFEST")"
info "index at $RAG_INDEX_DIR built at $BUILT_AT ($(du -sh "$RAG_INDEX_DIR" | cut -f1))"

# ---------------------------------------------------------------------------------------------
step "start the CMD on 127.0.0.1 and wait for the HEALTHCHECK"
RAG_HOST=127.0.0.1
RAG_PORT="$("$VPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export RAG_HOST RAG_PORT
mapfile -t SERVE_ARGV < <("$VPY" -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$SERVE_CMD")
mapfile -t HEALTH_ARGV < <("$VPY" -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$HEALTH_CMD")
info "running: ${SERVE_ARGV[*]} (RAG_HOST=$RAG_HOST RAG_PORT=$RAG_PORT), log in $WORK/serve.log"
"${SERVE_ARGV[@]}" > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
deadline=$(($(date +%s) + HEALTH_TIMEOUT))
until "${HEALTH_ARGV[@]}" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before it became healthy"
    (($(date +%s) < deadline)) || fail "the health check did not pass within ${HEALTH_TIMEOUT} s"
    sleep 1
done
info "healthy after $(($(date +%s) - STEP_STARTED)) s"

# ---------------------------------------------------------------------------------------------
step "check /health, /ask with verbatim citations, /documents, the page, /metrics and the JSON logs"
"$VPY" - "http://127.0.0.1:$RAG_PORT" "$QUESTION" "$BUILT_AT" "$APP/seeds" "$WORK/serve.log" <<'PY'
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

base, question, built_at, seeds, log_file = sys.argv[1:]


def call(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read().decode()


def check(condition, message):
    if not condition:
        sys.exit(f"check failed: {message}")


health = json.loads(call("/health"))
seed_files = [p for p in Path(seeds).rglob("*") if p.suffix in (".txt", ".md", ".markdown", ".jsonl")]
check(health["status"] == "ok", f"/health status {health['status']!r}")
check(health["documents"] >= 1, "/health reports no documents")
check(health["index"]["built_at"] == built_at,
      f"the server rebuilt the index (built_at {health['index']['built_at']}, baked {built_at})")
print(f"    /health: {health['documents']} documents, {health['passages']} passages, "
      f"{health['sentences']} sentences, model {health['model']}; the baked index was loaded, not rebuilt")

answer = json.loads(call("/ask", {"question": question}))
check(not answer["abstained"], f"the service abstained on {question!r}: {answer['answer']!r}")
check(answer["citations"], "the answer has no citations")
documents = {}
for citation in answer["citations"]:
    doc_id = citation["doc_id"]
    if doc_id not in documents:
        documents[doc_id] = json.loads(call("/documents/" + urllib.parse.quote(doc_id, safe="")))["text"]
    quoted = documents[doc_id][citation["start"]:citation["end"]]
    check(quoted == citation["text"], f"citation {citation['id']} is not document[start:end]: {citation}")
print(f"    /ask: {question!r} -> {answer['answer'][:100]!r}... (confidence {answer['confidence']})")
print(f"    {len(answer['citations'])} citation(s), each exactly /documents/{{doc_id}} text[start:end]")

# The reader's page and its static files come from package data: a non-editable install is where
# a file left out of [tool.setuptools.package-data] shows up.
try:
    page = call("/")
except urllib.error.HTTPError as exc:
    check(exc.code == 404, f"GET / answered {exc.code}")
    print("    GET /: no page route (404); skipped")
else:
    check("<html" in page.lower(), "GET / is not an HTML page")
    assets = sorted(set(re.findall(r'(?:href|src)="(/static/[^"?#]+)', page)))
    for asset in assets:
        call(asset)
    print(f"    GET /: HTML page; its static files load: {', '.join(assets) or 'none referenced'}")

metrics = call("/metrics")
check("rag_requests_total" in metrics and "rag_answers_total" in metrics, "/metrics lacks the rag_* metrics")
print("    /metrics: rag_requests_total and rag_answers_total present")

records = []
for line in Path(log_file).read_text(encoding="utf-8").splitlines():
    if line.strip():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            sys.exit(f"check failed: a server log line is not JSON (RAG_LOG_FORMAT=json): {line[:200]}")
check(any(r.get("path") == "/ask" and r.get("status") == 200 for r in records), "no JSON access log line for /ask")
print(f"    server log: {len(records)} line(s), all JSON, including the /ask request line")
PY

# ---------------------------------------------------------------------------------------------
step "stop the server with SIGTERM (as docker stop does)"
kill -TERM "$SERVER_PID"
for _ in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "the server was still running 10 s after SIGTERM"
exit_code=0
wait "$SERVER_PID" || exit_code=$?
SERVER_PID=""
# uvicorn shuts down gracefully, then re-raises SIGTERM: 143 (128 + 15) is a clean stop too.
[[ $exit_code -eq 0 || $exit_code -eq 143 ]] || fail "the server exited with status $exit_code after SIGTERM"
grep -q '"Application shutdown complete."' "$WORK/serve.log" || fail "no graceful shutdown in the server log"
info "stopped gracefully within $(($(date +%s) - STEP_STARTED)) s (exit status $exit_code)"
if [[ -n "$(ls -A "$WORK/home")" ]]; then fail "something was written to HOME: $(ls -A "$WORK/home")"; fi
info "nothing written to HOME"
info "($STEP: $(($(date +%s) - STEP_STARTED)) s)"
