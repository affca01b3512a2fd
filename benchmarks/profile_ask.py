"""Where the time of one ``POST /ask`` goes: a py-spy profile of the real service, 0.2.0 and now.

    python -m benchmarks.profile_ask [--seconds 30] [--write-docs]

Needs py-spy (``pip install py-spy==0.4.3``) and the right to ptrace the servers (root, or
``kernel.yama.ptrace_scope=0``). Three configurations, each served by its own process on 127.0.0.1 with
its own index of its seeds in a temporary directory:

- 0.2.0, commit b460c72 (exported with ``git archive``, run with this interpreter by its own
  ``python -m rag.cli serve``): torch encoder, no reranker;
- the current code with its defaults (``python -m api.cli serve``): ONNX Runtime encoder and the
  cross-encoder reranker on every request;
- the current code with ``RAG_ENCODER=torch``, the encoder 0.2.0 used (the reranker then runs on torch too).

Each server is warmed up and timed over one pass of the 81 development questions without the profiler,
then ``py-spy record --format raw --rate 200 --subprocesses --pid PID --duration SECONDS`` samples it
while one client sends the questions one at a time in a loop. The collapsed stacks are summarised by
:func:`summarise`: a sample whose innermost frame is a blocked thread (the event loop's select, a condition
or event wait) counts as waiting; the other, busy, samples are split into the groups of ``GROUPS`` and
ranked by function.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.common import (
    DataMissingError,
    ResultTable,
    machine_description,
    run_main,
    update_docs_section,
    utc_date,
)
from benchmarks.load import Service
from rag.evaluation.metrics import percentile

REPO = Path(__file__).resolve().parents[1]
BEFORE_COMMIT = "b460c72"
RATE = 200
DOCS_HEADING = "Profile of POST /ask, before and after"
ALL_CONFIGS = ["before", "after", "after-torch"]

# Where a busy sample's time goes: the first group of this table that any frame of its stack matches, by
# "/"-anchored substring of the frame's filename ("rag/answer.py" matches "rag/answer.py" and
# ".../site-packages/rag/answer.py", "api/" does not match "fastapi/..."). The order makes a stage own what
# it delegates: the reranker's ONNX Runtime or torch forward counts as the reranker, not as encoding, and
# the BM25 tokenising that answer composition does for its features counts as composition. Native code
# (ONNX Runtime, torch, FAISS, numpy) shows under the Python frame that called it.
RERANKER = "cross-encoder reranker (rag/reranker.py)"
ENCODING = "question encoding (model forward: torch or ONNX Runtime)"
COMPOSITION = "answer composition (rag/answer.py)"
FAISS = "FAISS search"
BM25 = "BM25 (bm25s, rag/lexical.py)"
RANKING = "sentence ranking and features (rag/retrieval.py, rag/ranker.py)"
OTHER_RAG = "other pipeline code (rag/)"
HTTP = "HTTP and framework (fastapi, starlette, uvicorn, pydantic, anyio, h11, api/)"
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (RERANKER, ("rag/reranker.py",)),
    (
        ENCODING,
        (
            "rag/embedding.py",
            "rag/onnx_embedding.py",
            "rag/batching.py",
            "sentence_transformers/",
            "transformers/",
            "tokenizers/",
            "torch/",
            "onnxruntime/",
        ),
    ),
    (COMPOSITION, ("rag/answer.py",)),
    (FAISS, ("faiss/", "rag/ann.py")),
    (BM25, ("bm25s/", "rag/lexical.py")),
    (RANKING, ("rag/retrieval.py", "rag/ranker.py")),
    (OTHER_RAG, ("rag/",)),
    (HTTP, ("fastapi/", "starlette/", "uvicorn/", "pydantic/", "pydantic_core/", "anyio/", "h11/", "api/")),
)
OTHER = "event loop and other (asyncio, threading, standard library)"

# Innermost frames (filename, function; "" for any function) of a thread that is blocked, not computing.
# py-spy without --idle drops the threads the OS reports sleeping, yet still catches some in these.
WAITING: tuple[tuple[str, str], ...] = (
    ("selectors.py", ""),
    ("threading.py", "Condition.wait"),
    ("threading.py", "Event.wait"),
    ("threading.py", "Thread.join"),
    ("threading.py", "Thread._wait_for_tstate_lock"),
)

# Frames under every sample of a thread (start-up, thread and event-loop machinery): left out of the
# function table, where they would only repeat the total, and of the grouping, so that the server's entry
# point (api/cli.py, 0.2.0's rag/cli.py) does not claim the event loop's own work for a group.
PLUMBING: tuple[str, ...] = (
    "<frozen runpy>",
    "threading.py",
    "selectors.py",
    "asyncio/",
    "anyio/_backends/",
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "api/cli.py",
    "rag/cli.py",
)


@dataclass(frozen=True)
class Frame:
    """One frame of a py-spy stack: ``function (filename:line)``."""

    function: str
    filename: str
    line: int | None = None

    @property
    def key(self) -> str:
        return f"{self.filename}:{self.function}"


def in_file(filename: str, pattern: str) -> bool:
    """Whether ``pattern`` occurs in ``filename`` starting at a path component."""
    return f"/{pattern}" in f"/{filename}"


def parse_frame(text: str) -> Frame | None:
    """A frame as py-spy writes it, or None for its pseudo-frames (``process 12:"cmd"``, ``thread (0x..)``)."""
    if text.startswith("process ") and ':"' in text:
        return None
    function, paren, location = text.rpartition(" (")
    if not paren or not location.endswith(")"):
        return None
    location = location[:-1]
    filename, colon, line = location.rpartition(":")
    frame = Frame(function, filename, int(line)) if colon and line.isdigit() else Frame(function, location)
    if frame.function == "thread" and frame.filename.startswith("0x"):
        return None
    return frame


def parse_line(line: str) -> tuple[list[Frame], int] | None:
    """One line of ``py-spy record --format raw``: the frames root first, and the number of samples."""
    stack, _, count = line.strip().rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = [frame for frame in map(parse_frame, stack.split(";")) if frame is not None]
    return (frames, int(count)) if frames else None


def is_waiting(frames: Sequence[Frame]) -> bool:
    leaf = frames[-1]
    return any(in_file(leaf.filename, file) and function in ("", leaf.function) for file, function in WAITING)


def is_plumbing(filename: str) -> bool:
    return any(in_file(filename, pattern) for pattern in PLUMBING)


def group_of(frames: Sequence[Frame]) -> str:
    """The first group of ``GROUPS`` any of the frames outside ``PLUMBING`` belongs to, else ``OTHER``."""
    files = [frame.filename for frame in frames if not is_plumbing(frame.filename)]
    for name, patterns in GROUPS:
        if any(in_file(filename, pattern) for filename in files for pattern in patterns):
            return name
    return OTHER


@dataclass
class ProfileSummary:
    """Counts of one profile: all samples, the waiting ones, and per function and group the busy ones."""

    samples: int = 0
    waiting: int = 0
    inclusive: Counter[str] = field(default_factory=Counter)
    own: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)

    @property
    def busy(self) -> int:
        return self.samples - self.waiting

    def share(self, count: int) -> float:
        """``count`` as a share of the busy samples."""
        return count / self.busy if self.busy else 0.0

    def group_shares(self) -> dict[str, float]:
        """Every group's share of the busy samples, in table order (they add up to 1)."""
        return {name: self.share(self.groups[name]) for name in [*(g for g, _ in GROUPS), OTHER]}

    def top(self, n: int = 12) -> list[tuple[str, float, float]]:
        """The ``n`` functions with the largest inclusive share (and their self share), plumbing left out."""
        ranked = sorted(
            ((key, count) for key, count in self.inclusive.items() if not is_plumbing(key)),
            key=lambda item: (-item[1], item[0]),
        )
        return [(key, self.share(count), self.share(self.own[key])) for key, count in ranked[:n]]


def summarise(lines: Iterable[str]) -> ProfileSummary:
    """Summarise collapsed stacks (``frame;frame;... count`` lines, root first).

    A sample counts once for every distinct ``file:function`` on its stack (inclusive, so recursion is not
    counted twice), for its innermost frame (self) and for one group (:func:`group_of`). Waiting samples
    (:data:`WAITING`) are counted apart and are in none of those.
    """
    summary = ProfileSummary()
    for line in lines:
        parsed = parse_line(line)
        if parsed is None:
            continue
        frames, count = parsed
        summary.samples += count
        if is_waiting(frames):
            summary.waiting += count
            continue
        for key in {frame.key for frame in frames}:
            summary.inclusive[key] += count
        summary.own[frames[-1].key] += count
        summary.groups[group_of(frames)] += count
    return summary


# ---- running the services -------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One server to profile: the checkout it runs from, its CLI module and its ``RAG_*`` settings."""

    key: str
    label: str
    what: str
    env: dict[str, str]
    repo: Path = REPO
    module: str = "api.cli"


@dataclass
class Run:
    """One profiled server: the summary, and what the client measured.

    py-spy takes ``RATE * duration`` sampling ticks and, when it falls behind, takes longer than
    ``duration``; each tick records one stack per busy thread. So a busy sample stands for ``seconds``
    divided by the ticks of a thread's time (5 ms when py-spy keeps up), which is how samples become
    milliseconds per request here.
    """

    config: Config
    summary: ProfileSummary
    latencies_ms: list[float]
    errors: int
    duration: int
    seconds: float
    unprofiled_ms: list[float]
    lag_seconds: float

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def ms_per_sample(self) -> float:
        return 1000 * self.seconds / (RATE * self.duration)

    def ms_per_request(self, samples: int) -> float:
        """``samples`` busy samples as milliseconds of thread time per answered request."""
        return samples * self.ms_per_sample / self.requests if self.requests else 0.0

    @property
    def busy_ms(self) -> float:
        return self.ms_per_request(self.summary.busy)

    def group_ms(self, *groups: str) -> float:
        return self.ms_per_request(sum(self.summary.groups[group] for group in groups))

    def p50(self, unprofiled: bool = False) -> float:
        values = self.unprofiled_ms if unprofiled else self.latencies_ms
        return percentile(values, 50) if values else float("nan")


def find_py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


def export_commit(commit: str, target: Path) -> Path:
    """The tree of ``commit`` written to ``target`` (``git archive``: the repository is left as it is)."""
    try:
        _git("rev-parse", "--verify", f"{commit}^{{commit}}")
    except (OSError, subprocess.CalledProcessError) as exc:
        raise DataMissingError(f"commit {commit} not found in {REPO}; pass --before-checkout DIR") from exc
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def checkout_version(checkout: Path) -> str:
    found = re.search(r'__version__ = "([^"]+)"', (checkout / "rag" / "__init__.py").read_text(encoding="utf-8"))
    return found.group(1) if found else "unknown version"


def current_label() -> str:
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "now"
    return f"now ({head}{' + changes' if dirty else ''})"


def _ask(client: httpx.Client, question: str) -> float | None:
    """Milliseconds of one ``POST /ask``, or None when it failed."""
    sent = time.perf_counter()
    try:
        response = client.post("/ask", json={"question": question})
    except httpx.HTTPError:
        return None
    return (time.perf_counter() - sent) * 1000 if response.status_code == 200 else None


def measure(service: Service, config: Config, questions: list[str], seconds: int, py_spy: str, raw: Path) -> Run:
    """Warm up, time one unprofiled pass of the questions, then profile the server under the client loop."""
    log = raw.with_suffix(".log")
    with httpx.Client(base_url=service.url, timeout=60) as client:
        for question in questions[:5]:
            if _ask(client, question) is None:
                raise RuntimeError(f"{config.label}: /ask failed during warm-up")
        unprofiled = [ms for ms in (_ask(client, q) for q in questions) if ms is not None]
        command = [py_spy, "record", "--format", "raw", "--rate", str(RATE), "--subprocesses"]
        command += ["--pid", str(service.process.pid), "-o", str(raw), "--duration", str(seconds)]
        latencies: list[float] = []
        errors = 0
        with log.open("wb") as out:
            spy = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while "Sampling process" not in log.read_text(errors="replace"):
                if spy.poll() is not None:
                    raise RuntimeError(f"py-spy exited with {spy.returncode}:\n{log.read_text(errors='replace')}")
                if time.monotonic() > deadline:
                    spy.kill()
                    raise RuntimeError("py-spy did not start sampling within 30 s")
                time.sleep(0.05)
            started = time.perf_counter()
            # py-spy takes RATE x SECONDS samples and runs longer when it falls behind; stop it if it never ends.
            give_up = started + 10 * seconds + 60
            turn = 0
            while spy.poll() is None:
                if time.perf_counter() > give_up:
                    spy.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
                    spy.wait(timeout=60)
                    break
                ms = _ask(client, questions[turn % len(questions)])
                turn += 1
                if ms is None:
                    errors += 1
                else:
                    latencies.append(ms)
            elapsed = time.perf_counter() - started
        finally:
            if spy.poll() is None:  # interrupted: let py-spy write what it has and end
                spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)
    text = log.read_text(errors="replace")
    if not raw.is_file():
        raise RuntimeError(f"py-spy wrote no profile (exit {spy.returncode}):\n{text}")
    lags = [float(x) for x in re.findall(r"([\d.]+)s behind in sampling", text)]
    with raw.open(encoding="utf-8", errors="replace") as lines:
        summary = summarise(lines)
    return Run(config, summary, latencies, errors, seconds, elapsed, unprofiled, max(lags, default=0.0))


# ---- reporting ------------------------------------------------------------------------------


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def run_table(runs: Sequence[Run]) -> ResultTable:
    table = ResultTable(
        [
            "configuration",
            "samples",
            "waiting",
            "requests answered",
            "profiled wall time (py-spy lag)",
            "busy thread time per request",
            "/ask p50 under py-spy",
            "/ask p50 without (81 requests)",
        ]
    )
    for run in runs:
        s = run.summary
        table.add(
            run.config.label,
            f"{s.samples:,}",
            f"{s.waiting:,} ({100 * s.waiting / max(s.samples, 1):.0f}%)",
            f"{run.requests}" + (f" ({run.errors} failed)" if run.errors else ""),
            f"{run.seconds:.1f} s ({run.lag_seconds:.1f} s)",
            f"{run.busy_ms:.1f} ms",
            f"{run.p50():.1f} ms",
            f"{run.p50(unprofiled=True):.1f} ms",
        )
    return table


def group_table(runs: Sequence[Run]) -> ResultTable:
    table = ResultTable(["share of busy samples (ms per request)", *(run.config.label for run in runs)])
    for name in [*(g for g, _ in GROUPS), OTHER]:
        table.add(name, *(f"{_pct(run.summary.group_shares()[name])} ({run.group_ms(name):.1f})" for run in runs))
    return table


def function_table(run: Run, n: int) -> ResultTable:
    table = ResultTable(["file:function", "inclusive", "self"])
    for key, inclusive, own in run.summary.top(n):
        table.add(f"`{key}`", _pct(inclusive), _pct(own))
    return table


PIPELINE = (COMPOSITION, FAISS, BM25, RANKING, OTHER_RAG)


def _short(group: str) -> str:
    return group.split(" (")[0]


def findings(runs: dict[str, Run]) -> str:
    """What the figures show, in words, built from the measured values only."""

    def part(run: Run, *groups: str) -> str:
        share = sum(run.summary.group_shares()[group] for group in groups)
        return f"{run.group_ms(*groups):.1f} ms ({_pct(share)})"

    def largest(run: Run) -> str:
        return max(run.summary.group_shares().items(), key=lambda item: item[1])[0]

    overview = []  # the configurations one by one
    for run in runs.values():
        shares = sorted(run.summary.group_shares().items(), key=lambda item: -item[1])[:3]
        overview.append(
            f"**{run.config.label}**: "
            + ", ".join(f"{_short(name)} {_pct(share)}" for name, share in shares)
            + f" of the busy samples; about {run.busy_ms:.0f} ms of busy thread time per request under the "
            f"profiler, {run.p50(unprofiled=True):.0f} ms p50 without it."
        )
    sentences = []  # then the comparison
    before, after, torch_run = runs.get("before"), runs.get("after"), runs.get("after-torch")
    old = _short(before.config.label) if before is not None else ""
    if before is not None and after is not None:
        was, now = largest(before), largest(after)
        moved = (
            f"the largest part of a request moved from the {_short(was)}, {part(before, was)} in {old}, to the "
            f"{_short(now)}, {part(after, now)}"
            if was != now
            else f"the largest part of a request is still the {_short(now)}, {part(before, now)} in {old} and "
            f"{part(after, now)} now"
        )
        reranker = after.group_ms(RERANKER)
        sentences.append(
            f"With the defaults, {moved}; the reranker's {reranker:.1f} ms are "
            f"{'more' if reranker > before.busy_ms else 'less'} than all the busy time of a {old} request "
            f"({before.busy_ms:.1f} ms). Question encoding went from {part(before, ENCODING)} with torch to "
            f"{part(after, ENCODING)} with ONNX Runtime; retrieval, sentence ranking, BM25, FAISS and answer "
            f"composition together from {part(before, *PIPELINE)} to {part(after, *PIPELINE)}; HTTP and "
            f"framework from {part(before, HTTP)} to {part(after, HTTP)}."
        )
    if before is not None and torch_run is not None:
        added = torch_run.busy_ms - before.busy_ms
        reranker = torch_run.group_ms(RERANKER)
        tail = (
            f", {100 * reranker / added:.0f}% of the {added:.0f} ms of busy time per request it adds over {old}"
            if added > 0
            else f", though its busy time per request is {-added:.0f} ms less than {old}'s"
        )
        sentences.append(
            f"With {old}'s torch encoder, encoding takes {part(torch_run, ENCODING)} against "
            f"{before.group_ms(ENCODING):.1f} ms in {old}, and the reranker, on torch as well, "
            f"{part(torch_run, RERANKER)}{tail}."
        )
    inflation = [
        f"{run.busy_ms / run.p50(unprofiled=True):.1f}×" for run in runs.values() if run.p50(unprofiled=True) > 0
    ]
    if len(inflation) > 1:
        sentences.append(
            f"Busy time per request under py-spy ÷ p50 without it: {', '.join(inflation)} (the profiler's "
            "slowdown, and two threads busy at once); the milliseconds compare across configurations only as far "
            "as these ratios agree, the shares within each are the firmer figures."
        )
    return "\n\n".join(text for text in (" ".join(overview), " ".join(sentences)) if text)


NOTES = (
    "How to read it: py-spy samples the server's Python threads 200 times a second and, without `--idle`, "
    "keeps a thread only when the OS reports it running or runnable (so on shared cores busy time includes "
    "waiting for a CPU); the samples it still catches blocked (innermost frame the event loop's `select` or "
    "a `Condition`/`Event` wait) are the *waiting* column, left out of the shares. A busy sample belongs to "
    "the first group of `GROUPS` in benchmarks/profile_ask.py that a frame of its stack matches by filename, "
    "the server's entry point and the thread and event-loop machinery aside, so the reranker's own model "
    "forward is the reranker's, not encoding's, and the event loop's own work is *event loop and other*. "
    "Native work (ONNX Runtime, torch, FAISS, numpy) counts under the Python frame that called it; the "
    "intra-op threads of torch and ONNX Runtime are not Python threads and are not sampled. py-spy takes "
    "200 × duration sampling ticks and takes longer when it falls behind (the lag in the first table), so a "
    "busy sample stands for the profiled wall time ÷ the ticks of one thread's time: that is how the "
    "milliseconds per request are computed, two threads busy at once both counting. py-spy pauses the "
    "server for every sample, so these milliseconds and the p50 under the profiler are inflated against the "
    "unprofiled pass that precedes it; the client runs on the same cores, and the figures are from one run."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, help="py-spy --duration for each configuration")
    parser.add_argument("--top", type=int, default=12, help="functions listed per configuration")
    parser.add_argument("--before-commit", default=BEFORE_COMMIT, help="the 'before' version (git archive)")
    parser.add_argument("--before-checkout", type=Path, help="an existing checkout of the 'before' version instead")
    parser.add_argument(
        "--configs",
        nargs="+",
        choices=ALL_CONFIGS,
        default=ALL_CONFIGS,
        help="which servers to profile, in this order",
    )
    parser.add_argument("--raw-dir", type=Path, help="keep py-spy's raw profiles (and its log) in this directory")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.top < 1:
        parser.error("--seconds and --top must be at least 1")
    py_spy = find_py_spy()
    if py_spy is None:
        print("error: py-spy not found; pip install py-spy==0.4.3", file=sys.stderr)
        return 2
    py_spy_version = subprocess.run([py_spy, "--version"], capture_output=True, text=True).stdout.strip()
    questions = [json.loads(line)["question"] for line in (REPO / "tests/data/dev_gold.jsonl").open(encoding="utf-8")]
    load_average = os.getloadavg()[0]
    runs: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="profile-ask-") as tmp_name:
        tmp = Path(tmp_name)
        now = current_label()
        configs = {
            "after": Config(
                "after",
                now,
                "ONNX Runtime encoder (the default), cross-encoder reranker on every request",
                {"RAG_ENCODER": "onnx", "RAG_RERANKER": "cross-encoder"},
            ),
            "after-torch": Config(
                "after-torch",
                f"{now}, RAG_ENCODER=torch",
                "torch encoder as in 0.2.0, cross-encoder reranker (torch) on every request",
                {"RAG_ENCODER": "torch", "RAG_RERANKER": "cross-encoder"},
            ),
        }
        if "before" in args.configs:
            if args.before_checkout is not None:
                before_repo, before_ref = args.before_checkout.resolve(), str(args.before_checkout)
            else:
                before_repo, before_ref = export_commit(args.before_commit, tmp / "before-checkout"), args.before_commit
            label = f"{checkout_version(before_repo)} ({before_ref})"
            configs["before"] = Config("before", label, "torch encoder, no reranker", {}, before_repo, "rag.cli")
        raw_dir = args.raw_dir.resolve() if args.raw_dir else tmp
        raw_dir.mkdir(parents=True, exist_ok=True)
        for key in args.configs:
            config = configs[key]
            index_dir = tmp / "runs" / key / "index" / "default"
            index_dir.parent.mkdir(parents=True)
            print(f"{config.label}: starting the server ({config.what})", file=sys.stderr)
            log = tmp / f"{key}-serve.log"
            service = Service(index_dir, config.env, log, repo=config.repo, module=config.module)
            try:
                runs[key] = measure(service, config, questions, args.seconds, py_spy, raw_dir / f"{key}.txt")
            finally:
                service.stop()
            run = runs[key]
            if run.lag_seconds > 1:
                print(f"{config.label}: py-spy fell up to {run.lag_seconds:.1f} s behind", file=sys.stderr)
    for run in runs.values():
        print(f"\n{run.config.label}: {run.config.what}")
        function_table(run, args.top).print(f"Top functions, {run.config.label} (share of busy samples)")
    summary = run_table(list(runs.values()))
    summary.print("Samples and requests")
    groups = group_table(list(runs.values()))
    groups.print("Where the busy samples are")
    text = findings(runs)
    print(text)
    if args.write_docs:
        configs_option = "" if args.configs == ALL_CONFIGS else " --configs " + " ".join(args.configs)
        configurations = "\n".join(f"- **{run.config.label}**: {run.config.what}." for run in runs.values())
        functions = "\n\n".join(
            f"Top functions, {run.config.label} (inclusive and self share of busy samples):\n\n"
            + function_table(run, args.top).markdown()
            for run in runs.values()
        )
        body = (
            f"Command: `python -m benchmarks.profile_ask --seconds {args.seconds}{configs_option} --write-docs`  \n"
            f"Date: {utc_date()}  \n"
            f"Machine: {machine_description()}; {py_spy_version}; load average {load_average:.2f} at the start\n\n"
            f"Each configuration is its own server process on 127.0.0.1 with its own index of its seeds, sampled "
            f"by `py-spy record --format raw --rate {RATE} --subprocesses --duration {args.seconds}` while one "
            "client sends the 81 development questions one at a time in a loop (after 5 warm-up requests and one "
            "unprofiled pass of the 81):\n\n"
            f"{configurations}\n\n{summary.markdown()}\n\n{groups.markdown()}\n\n{functions}\n\n{text}\n\n{NOTES}"
        )
        update_docs_section(DOCS_HEADING, body)
    return 0


if __name__ == "__main__":
    run_main(main)
