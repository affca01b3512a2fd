"""The library's commands of ``rag``: index, ask and config (``rag serve`` lives in :mod:`api.cli`,
the entry point, because it needs the web layer; ``rag eval`` in :mod:`rag.evaluation.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rag.cli_support import CliError, path_argument, positive, progress_bar, settings_from_args, show_progress
from rag.text import is_blank

__all__ = ["add_commands", "add_config_command", "cmd_ask", "cmd_config", "cmd_index", "format_answer"]


def cmd_index(args: argparse.Namespace) -> int:
    from rag.corpus import load_corpus
    from rag.embedding import Embedder
    from rag.entities import make_tagger
    from rag.ingest import require_seeds_dir
    from rag.pipeline import IndexStatus, make_embedder, open_index
    from rag.store import IndexCorruptError, IndexStore
    from rag.stores import make_backend

    settings = settings_from_args(args)
    engine = getattr(args, "engine", "local")
    if engine == "ray":
        from rag.distributed import require_ray

        require_ray()  # before anything slow: without the extra, say how to install it
        if settings.store != "postgres":
            raise CliError("--engine ray writes into the PostgreSQL store: set RAG_STORE=postgres and RAG_DATABASE_URL")
    paths = args.paths or [require_seeds_dir(settings.seeds_dir)]
    embedder: Embedder = make_embedder(settings)
    backend = make_backend(settings, dimension=embedder.dimension)
    # The written corpus (API writes) is layered over the files, as `rag serve` does.
    articles, faqs = load_corpus(paths, backend.journal)
    if not articles:
        raise CliError(f"no articles found under {', '.join(map(str, paths))} (supported: .txt .md .jsonl)")
    if engine == "ray":
        from rag.distributed import ray_embedder

        embedder = ray_embedder(articles, embedder, settings, rebuild=args.rebuild, backend=backend)
    tagger = make_tagger(settings.entity_tagger)  # the tagger `rag serve` uses, or serve would rebuild the index
    with progress_bar("Embedding documents", show_progress(args)) as update:

        def build(rebuild: bool) -> tuple[IndexStore, IndexStatus]:
            return open_index(
                articles,
                embedder,
                settings.chunking(),
                settings.index_dir,
                rebuild=rebuild,
                progress=update,
                tagger=tagger,
                backend=backend,
                ann=settings.ann_params(),
            )

        try:
            store, status = build(args.rebuild)
        except IndexCorruptError as exc:
            import sys

            print(f"rag: {exc}\nrag: repairing: rebuilding the index from the documents", file=sys.stderr)
            store, status = build(True)
    counts = store.manifest["counts"]
    reuse = (
        f" (embedded {status.stats.documents_embedded}, reused {status.stats.documents_reused})" if status.stats else ""
    )
    backend.close()
    print(
        f"index {status.action} at {backend.describe()}: {counts['documents']} documents, "
        f"{counts['passages']} passages, {counts['sentences']} sentences in {status.seconds:.1f}s{reuse}; "
        f"{len(faqs)} FAQ document(s) kept apart"
    )
    return 0


def format_answer(answer: object) -> str:
    from rag.answer import Answer

    assert isinstance(answer, Answer)
    lines = []
    if answer.short_answer is not None:
        short = answer.short_answer
        lines += [f"Short answer: {short.text}  ({short.doc_id} [{short.start}:{short.end}])", ""]
    status = {"partial": "  (partial answer)", "none": "  (abstained)"}.get(answer.support, "")
    lines += [answer.answer, "", f"confidence: {answer.confidence:.2f}" + status]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
    for citation in answer.citations:
        source = f" — {citation.source}" if citation.source else ""
        url = f" <{citation.url}>" if citation.url else ""
        lines.append(f"[{citation.id}] {citation.title}{source}{url}")
        lines.append(f"    {citation.doc_id} [{citation.start}:{citation.end}]")
    return "\n".join(lines)


def format_timings(timings: dict[str, float]) -> str:
    """One line: each stage's milliseconds and their sum (``encode 5.1 ms · ... · ask 61.0 ms``)."""
    parts = [f"{stage} {ms:.1f} ms" for stage, ms in timings.items()]
    return " · ".join([*parts, f"ask {sum(timings.values()):.1f} ms"])


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer import MAX_ANSWER_SENTENCES
    from rag.pipeline import build_pipeline

    settings = settings_from_args(args)
    question = (sys.stdin.read() if args.question == "-" else args.question).strip()
    if is_blank(question):
        raise CliError("the question must not be empty")
    if len(question) > settings.max_question_chars:
        raise CliError(f"the question is {len(question)} characters long; the limit is {settings.max_question_chars}")
    # The limits POST /ask applies; past them the composer raised a traceback (--max-sentences 11).
    if args.top_k is not None and args.top_k > settings.max_top_k:
        raise CliError(f"--top-k must be between 1 and {settings.max_top_k} (RAG_MAX_TOP_K), got {args.top_k}")
    if args.max_sentences is not None and args.max_sentences > MAX_ANSWER_SENTENCES:
        raise CliError(f"--max-sentences must be between 1 and {MAX_ANSWER_SENTENCES}, got {args.max_sentences}")
    pipeline = build_pipeline(settings)
    timings: dict[str, float] | None = {} if args.timings else None
    answer = pipeline.ask(question, top_k=args.top_k, max_sentences=args.max_sentences, timings=timings)
    if timings is not None:
        print(format_timings(timings), file=sys.stderr)
    if args.json:
        from rag.serialize import answer_to_dict

        print(json.dumps(answer_to_dict(answer), indent=2, ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    values = settings.masked()
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        width = max(len(k) for k in values)
        for key, value in values.items():
            print(f"RAG_{key.upper():<{width}}  {json.dumps(value)}")
    return 0


def add_commands(sub: Any) -> None:
    """Add ``index`` and ``ask`` to the ``rag`` parser's subcommands (``config`` is added by
    :func:`add_config_command`, after ``serve``, to keep the help in its order)."""
    index = sub.add_parser("index", help="build or update the index from documents")
    index.add_argument("paths", nargs="*", type=path_argument, help="files or directories (default: RAG_SEEDS_DIR)")
    index.add_argument("--index-dir", type=path_argument, help="where the index goes (default: RAG_INDEX_DIR)")
    index.add_argument("--rebuild", action="store_true", help="re-embed everything, even with another model")
    index.add_argument("--quiet", action="store_true", help="no progress bar")
    index.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="who embeds: this process, or Ray Data map_batches (RAG_RAY_ADDRESS, else a local Ray; "
        "needs pip install '.[ray]' and RAG_STORE=postgres)",
    )
    index.set_defaults(handler=cmd_index)

    ask = sub.add_parser("ask", help="answer a question with cited sentences")
    ask.add_argument("question", help="the question, or - to read it from standard input")
    ask.add_argument("--index-dir", type=path_argument)
    ask.add_argument("--top-k", type=positive)
    ask.add_argument("--max-sentences", type=positive)
    ask.add_argument("--json", action="store_true", help="print the API's JSON response")
    ask.add_argument("--timings", action="store_true", help="print each pipeline stage's milliseconds on stderr")
    ask.set_defaults(handler=cmd_ask)


def add_config_command(sub: Any) -> None:
    config = sub.add_parser("config", help="print the effective settings (secrets masked)")
    config.add_argument("--json", action="store_true")
    config.set_defaults(handler=cmd_config)
